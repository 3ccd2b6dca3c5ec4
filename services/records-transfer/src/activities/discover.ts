import { createHash } from 'node:crypto';
import type { TrustSystems } from '../connectors/hospital-connectors';
import type { FhirResource } from '../connectors/fhir';
import { dicomString, Tag, type DicomJson } from '../connectors/dicomweb';
import type { AttachmentFound, FoundDocument, FoundImagingStudy, FoundReport } from '../domain/manifest';

export interface DiscoverOptions {
  readonly signal?: AbortSignal | undefined;
  readonly heartbeat: (details?: unknown) => void;
}

export interface Discovered {
  readonly records: { documents: FoundDocument[]; reports: FoundReport[]; studies: FoundImagingStudy[] };
  /** The instances of each imaging item, by the item's source reference. */
  readonly instances: Map<string, { seriesUid: string; sopInstanceUid: string }[]>;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const dateOf = (v: unknown): Date | null => {
  const s = str(v);
  if (!s) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
};
const dicomDate = (v: string | undefined): Date | null =>
  v && /^\d{8}$/.test(v) ? new Date(`${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}T00:00:00Z`) : null;
const refOf = (r: FhirResource) => `${r.resourceType}/${r.id}`;
const titleOf = (concept: unknown, fallback: string) => str(obj(concept).text) ?? str(obj(arr(obj(concept).coding)[0]).display) ?? fallback;

/** The StudyInstanceUID of an ImagingStudy (identifier `urn:dicom:uid` = `urn:oid:<uid>`). */
export function studyUidOf(study: FhirResource): string | undefined {
  for (const id of arr(study.identifier)) {
    const i = obj(id);
    const value = str(i.value);
    if (str(i.system) === 'urn:dicom:uid' && value) return value.replace(/^urn:oid:/, '');
  }
  return undefined;
}

/**
 * Finds the patient's records at the source trust: documents, reports and imaging studies in the EHR (by NHS
 * number), the studies in the PACS (QIDO-RS by patient id), and reads each document's file once to know its size
 * and SHA-256 (a file the document names but the source lacks is a gap). Nothing is kept but ids and digests.
 */
export async function discoverAtSource(source: TrustSystems, nhsNumber: string, o: DiscoverOptions): Promise<Discovered> {
  const { ehr, pacs } = source;
  const [docs, reports, studies, pacsStudies] = await Promise.all([
    ehr.searchByPatient('DocumentReference', nhsNumber, o.signal),
    ehr.searchByPatient('DiagnosticReport', nhsNumber, o.signal),
    ehr.searchByPatient('ImagingStudy', nhsNumber, o.signal),
    pacs.studiesOfPatient(nhsNumber, o.signal),
  ]);
  o.heartbeat({ phase: 'searched' });
  const documents = await documentsFound(source, docs, o);
  const { imaging, instances } = await imagingFound(source, studies, pacsStudies, o);
  return { records: { documents, reports: reportsFound(reports), studies: imaging }, instances };
}

/** The patient's documents (not entered in error), each attachment read once for its size and digest. */
async function documentsFound(source: TrustSystems, docs: readonly FhirResource[], o: DiscoverOptions): Promise<FoundDocument[]> {
  const documents: FoundDocument[] = [];
  for (const d of docs) {
    if (str(d.status) === 'entered-in-error') continue;
    const attachments: AttachmentFound[] = [];
    for (const c of arr(d.content)) {
      const a = obj(obj(c).attachment);
      const url = str(a.url);
      const contentType = str(a.contentType) ?? 'application/octet-stream';
      const title = str(a.title);
      if (!url) continue;
      attachments.push({ url, contentType, ...(title ? { title } : {}), ...(await digestOfBinary(source, url, contentType, o.signal)) });
      o.heartbeat({ phase: 'digest', document: refOf(d) });
    }
    documents.push({
      reference: refOf(d),
      title: str(d.description) ?? titleOf(d.type, 'Document'),
      date: dateOf(d.date),
      practiceSetting: obj(d.context).practiceSetting,
      attachments,
    });
  }

  return documents;
}

/** The patient's diagnostic reports (not entered in error), with the results and imaging they point at. */
function reportsFound(reports: readonly FhirResource[]): FoundReport[] {
  return reports
    .filter((r) => str(r.status) !== 'entered-in-error')
    .map((r) => ({
      reference: refOf(r),
      title: titleOf(r.code, 'Report'),
      date: dateOf(r.effectiveDateTime) ?? dateOf(r.issued),
      categories: arr(r.category),
      results: arr(r.result)
        .map((x) => str(obj(x).reference))
        .filter((x): x is string => !!x),
      imagingStudies: arr(r.imagingStudy)
        .map((x) => str(obj(x).reference))
        .filter((x): x is string => !!x),
    }));
}

/** The imaging the EHR describes, then any study only the PACS holds; with the PACS's instances of each. */
async function imagingFound(source: TrustSystems, studies: readonly FhirResource[], pacsStudies: readonly DicomJson[], o: DiscoverOptions) {
  const { pacs } = source;
  const instances = new Map<string, { seriesUid: string; sopInstanceUid: string }[]>();
  const imaging: FoundImagingStudy[] = [];
  const seen = new Set<string>();
  const addStudy = async (reference: string | null, studyUid: string, title: string, date: Date | null, seriesUids: string[]) => {
    seen.add(studyUid);
    const inPacs = (await pacs.study(studyUid, o.signal)) ? await pacs.instancesOfStudy(studyUid, o.signal) : [];
    o.heartbeat({ phase: 'imaging', studyUid });
    if (inPacs.length > 0) instances.set(reference ?? `Study/${studyUid}`, inPacs);
    imaging.push({
      reference,
      studyUid,
      title,
      date,
      seriesUids,
      inPacs: inPacs.length > 0 ? { instances: inPacs.length, seriesUids: [...new Set(inPacs.map((i) => i.seriesUid))] } : null,
    });
  };
  for (const s of studies) {
    const uid = studyUidOf(s);
    if (!uid || str(s.status) === 'entered-in-error') continue;
    const series = arr(s.series)
      .map((x) => str(obj(x).uid))
      .filter((x): x is string => !!x);
    await addStudy(refOf(s), uid, str(s.description) ?? 'Imaging study', dateOf(s.started), series);
  }
  // Studies in the PACS that the EHR does not describe: listed (not relevant by themselves) so the GP can add them.
  for (const p of pacsStudies) {
    const uid = dicomString(p, Tag.StudyInstanceUID);
    if (!uid || seen.has(uid)) continue;
    await addStudy(
      null,
      uid,
      dicomString(p, Tag.StudyDescription) ?? 'Imaging study (PACS only)',
      dicomDate(dicomString(p, Tag.StudyDate)),
      [],
    );
  }
  return { imaging, instances };
}

/** Reads a file once, streaming, for its size and SHA-256; nulls when the source has no such file. */
async function digestOfBinary(
  source: TrustSystems,
  url: string,
  contentType: string,
  signal?: AbortSignal,
): Promise<{ size: number | null; sha256: string | null }> {
  if (!/^(Binary\/[A-Za-z0-9\-.]{1,64})$/.test(url)) return { size: null, sha256: null };
  const res = await source.ehr.openBinary(url, contentType, signal);
  if (!res) return { size: null, sha256: null };
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of res.body) {
    h.update(chunk);
    size += chunk.byteLength;
  }
  return { size, sha256: h.digest('hex') };
}
