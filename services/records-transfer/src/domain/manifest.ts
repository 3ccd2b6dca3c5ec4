import type { DocumentKind, RecordsGapKind } from '@sonet/contracts';
import type { ItemKind } from './entities';
import { conceptsNameAnySpecialty, conceptsNameSpecialty } from './specialties';

/** The kinds of record the referral asked for, as the contract names them. */
export type { DocumentKind };
export const KIND_ASKED_AS: Readonly<Record<ItemKind, DocumentKind>> = {
  document: 'clinic-letters',
  'diagnostic-report': 'test-results',
  'imaging-study': 'imaging',
};

export interface RelevanceRule {
  readonly specialty: string | null;
  readonly documentKinds: readonly string[];
  /** Records older than this many days before `now` are not relevant. */
  readonly lookBackDays: number;
  readonly now: Date;
}

/** A document's attachment as discovery found it at the source. */
export interface AttachmentFound {
  readonly url: string;
  readonly contentType: string;
  readonly title?: string;
  /** Null when the source has no such Binary (a gap). */
  readonly size: number | null;
  readonly sha256: string | null;
}

export interface FoundDocument {
  readonly reference: string;
  readonly title: string;
  readonly date: Date | null;
  readonly practiceSetting: unknown;
  readonly attachments: readonly AttachmentFound[];
}

export interface FoundReport {
  readonly reference: string;
  readonly title: string;
  readonly date: Date | null;
  readonly categories: readonly unknown[];
  readonly results: readonly string[];
  /** References to ImagingStudy resources the report is about. */
  readonly imagingStudies: readonly string[];
}

export interface FoundImagingStudy {
  readonly reference: string | null;
  readonly studyUid: string;
  readonly title: string;
  readonly date: Date | null;
  /** Series UIDs the EHR lists for the study. */
  readonly seriesUids: readonly string[];
  /** What the PACS holds: null when the study is not in the PACS at all. */
  readonly inPacs: { readonly instances: number; readonly seriesUids: readonly string[] } | null;
}

export interface ManifestItemDraft {
  readonly kind: ItemKind;
  readonly sourceReference: string;
  readonly title: string;
  readonly mediaType: string;
  readonly size: number | null;
  readonly sha256: string | null;
  readonly recordDate: Date | null;
  readonly relevant: boolean;
  readonly relevance: string;
  readonly missing: boolean;
  readonly detail: Record<string, unknown>;
}

export interface GapDraft {
  readonly reference: string;
  readonly referencedBy: string;
  readonly kind: RecordsGapKind;
  readonly reason: string;
}

const DAY_MS = 86_400_000;

/**
 * The relevance rule (documented in the service README): an item is relevant when
 * 1. its kind was asked for (letters, test results, imaging), and
 * 2. it was made within the look-back window (no date: relevant, a clinician decides), and
 * 3. its specialty is the referral's; an imaging study carries no specialty of its own and is relevant when a
 *    relevant report is about it. A record coded with no specialty at all is relevant (it cannot be judged).
 * Items that are not relevant stay in the manifest, excluded, so the GP can add them.
 */
export function judge(
  kind: ItemKind,
  date: Date | null,
  specialtyMatch: 'match' | 'other' | 'uncoded',
  rule: RelevanceRule,
): { relevant: boolean; relevance: string } {
  const asked = KIND_ASKED_AS[kind];
  if (!rule.documentKinds.includes(asked)) return { relevant: false, relevance: `${asked} were not asked for` };
  if (date && rule.now.getTime() - date.getTime() > rule.lookBackDays * DAY_MS) {
    return { relevant: false, relevance: `older than the ${rule.lookBackDays}-day look-back window` };
  }
  if (specialtyMatch === 'other') return { relevant: false, relevance: `not ${rule.specialty ?? "of the referral's specialty"}` };
  if (specialtyMatch === 'uncoded') return { relevant: true, relevance: 'within the window; no specialty recorded' };
  return { relevant: true, relevance: `${rule.specialty} record within the look-back window` };
}

const specialtyOf = (concepts: readonly unknown[], specialty: string | null): 'match' | 'other' | 'uncoded' => {
  const cs = concepts.filter((c): c is object => typeof c === 'object' && c !== null);
  if (!specialty) return 'uncoded';
  if (conceptsNameSpecialty(cs, specialty)) return 'match';
  return conceptsNameAnySpecialty(cs) ? 'other' : 'uncoded';
};

/**
 * An imaging study has no specialty of its own: it follows the reports about it (relevant when a relevant report is
 * about it, not when only reports of other specialties are), and one no report is about is judged like an uncoded
 * record. A study only the PACS knows (no EHR record describes it) is listed for the GP to add, not sent by default.
 */
function imagingVerdict(
  s: FoundImagingStudy,
  ofRelevant: ReadonlySet<string>,
  ofAny: ReadonlySet<string>,
  rule: RelevanceRule,
): { relevant: boolean; relevance: string } {
  if (s.reference == null) return { relevant: false, relevance: 'in the PACS only: no record in the EHR describes it' };
  const judged = judge('imaging-study', s.date, 'uncoded', rule);
  if (!judged.relevant) return judged;
  if (ofRelevant.has(s.reference)) return { relevant: true, relevance: 'a relevant report is about it' };
  if (ofAny.has(s.reference)) return { relevant: false, relevance: 'only reports of other specialties are about it' };
  return { relevant: true, relevance: 'within the window; no report says which specialty it is for' };
}

type Found = { documents: readonly FoundDocument[]; reports: readonly FoundReport[]; studies: readonly FoundImagingStudy[] };

/** A document: relevant by its practice setting; a file it names that the source lacks is a gap. */
function documentItem(d: FoundDocument, rule: RelevanceRule, gaps: GapDraft[]): ManifestItemDraft {
  const verdict = judge('document', d.date, specialtyOf([d.practiceSetting], rule.specialty), rule);
  const present = d.attachments.filter((a) => a.sha256 != null);
  for (const a of d.attachments.filter((x) => x.sha256 == null)) {
    gaps.push({ reference: a.url, referencedBy: d.reference, kind: 'attachment', reason: "the document's file is not at the source" });
  }
  return {
    kind: 'document',
    sourceReference: d.reference,
    title: d.title,
    mediaType: present[0]?.contentType ?? d.attachments[0]?.contentType ?? 'application/octet-stream',
    size: present.length > 0 ? present.reduce((s, a) => s + (a.size ?? 0), 0) : null,
    sha256: present.length === 1 ? present[0]!.sha256 : null,
    recordDate: d.date,
    ...verdict,
    missing: present.length === 0 && d.attachments.length > 0,
    detail: { attachments: d.attachments },
  };
}

/** A report: relevant by its category; a study it is about that the EHR or the PACS lacks is a gap. */
function reportItem(
  r: FoundReport,
  studiesByRef: ReadonlyMap<string, FoundImagingStudy>,
  rule: RelevanceRule,
  gaps: GapDraft[],
): ManifestItemDraft {
  const verdict = judge('diagnostic-report', r.date, specialtyOf(r.categories, rule.specialty), rule);
  for (const ref of r.imagingStudies) {
    const s = studiesByRef.get(ref);
    if (!s)
      gaps.push({
        reference: ref,
        referencedBy: r.reference,
        kind: 'imaging-study',
        reason: "the report's imaging study is not in the EHR",
      });
    else if (!s.inPacs)
      gaps.push({
        reference: `${ref} (study ${s.studyUid})`,
        referencedBy: r.reference,
        kind: 'imaging-study',
        reason: "the study's images are not in the PACS",
      });
  }
  return {
    kind: 'diagnostic-report',
    sourceReference: r.reference,
    title: r.title,
    mediaType: 'application/fhir+json',
    size: null,
    sha256: null,
    recordDate: r.date,
    ...verdict,
    missing: false,
    detail: { results: r.results, imagingStudies: r.imagingStudies },
  };
}

/** A study in the PACS: it follows the reports about it; a series the EHR lists that the PACS lacks is a gap. */
function studyItem(
  s: FoundImagingStudy & { inPacs: NonNullable<FoundImagingStudy['inPacs']> },
  verdict: { relevant: boolean; relevance: string },
  gaps: GapDraft[],
): ManifestItemDraft {
  const sourceReference = s.reference ?? `Study/${s.studyUid}`;
  for (const series of s.seriesUids.filter((x) => !s.inPacs.seriesUids.includes(x))) {
    gaps.push({
      reference: `${s.reference ?? s.studyUid} (series ${series})`,
      referencedBy: sourceReference,
      kind: 'imaging-series',
      reason: 'a series the EHR lists is not in the PACS',
    });
  }
  return {
    kind: 'imaging-study',
    sourceReference,
    title: `${s.title} (${s.inPacs.instances} images)`,
    mediaType: 'application/dicom',
    size: null,
    sha256: null,
    recordDate: s.date,
    ...verdict,
    missing: false,
    detail: { studyUid: s.studyUid, instances: s.inPacs.instances },
  };
}

/**
 * Builds a transfer's manifest from what discovery found at the source, and the gaps: records that what would be
 * sent refers to but the source does not hold. Pure: no I/O.
 */
export function buildManifest(found: Found, rule: RelevanceRule): { items: ManifestItemDraft[]; gaps: GapDraft[] } {
  const gaps: GapDraft[] = [];
  const studiesByRef = new Map(found.studies.filter((s) => s.reference).map((s) => [s.reference!, s]));
  const ofAnyReport = new Set(found.reports.flatMap((r) => r.imagingStudies));
  const ofRelevantReports = new Set<string>();
  const reports = found.reports.map((r) => {
    const item = reportItem(r, studiesByRef, rule, gaps);
    if (item.relevant) r.imagingStudies.forEach((ref) => ofRelevantReports.add(ref));
    return item;
  });
  const items = [
    ...found.documents.map((d) => documentItem(d, rule, gaps)),
    // A study not in the PACS has nothing to send: the report that refers to it reports it as a gap.
    ...found.studies.flatMap((s) =>
      s.inPacs ? [studyItem({ ...s, inPacs: s.inPacs }, imagingVerdict(s, ofRelevantReports, ofAnyReport, rule), gaps)] : [],
    ),
    ...reports,
  ];
  // Sent in that order: documents, then imaging, then the reports that refer to the imaging.
  return { items, gaps: dedupeGaps(gaps) };
}

function dedupeGaps(gaps: GapDraft[]): GapDraft[] {
  const seen = new Set<string>();
  return gaps.filter((g) => (seen.has(g.reference) ? false : (seen.add(g.reference), true)));
}

/** The gaps to report once items are sent: those referred to by an item that was (to be) sent. */
export const gapsOfSentItems = <G extends { referencedBy: string }>(gaps: readonly G[], sentReferences: ReadonlySet<string>): G[] =>
  gaps.filter((g) => sentReferences.has(g.referencedBy));
