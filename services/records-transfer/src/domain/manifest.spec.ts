import {
  buildManifest,
  gapsOfSentItems,
  judge,
  type FoundDocument,
  type FoundImagingStudy,
  type FoundReport,
  type RelevanceRule,
} from './manifest';

const now = new Date('2026-11-30T12:00:00Z');
const daysAgo = (n: number) => new Date(now.getTime() - n * 86_400_000);
const rule: RelevanceRule = {
  specialty: 'cardiology',
  documentKinds: ['clinic-letters', 'test-results', 'imaging'],
  lookBackDays: 730,
  now,
};
const cardiology = { coding: [{ system: 'http://snomed.info/sct', code: '394579002', display: 'Cardiology' }] };
const dermatology = { coding: [{ system: 'http://snomed.info/sct', code: '394582007', display: 'Dermatology' }] };

const letter = (over: Partial<FoundDocument> = {}): FoundDocument => ({
  reference: 'DocumentReference/1',
  title: 'Cardiology clinic letter',
  date: daysAgo(30),
  practiceSetting: cardiology,
  attachments: [{ url: 'Binary/b1', contentType: 'application/pdf', size: 1234, sha256: 'a'.repeat(64) }],
  ...over,
});
const report = (over: Partial<FoundReport> = {}): FoundReport => ({
  reference: 'DiagnosticReport/2',
  title: 'Echocardiogram',
  date: daysAgo(20),
  categories: [cardiology],
  results: ['Observation/3'],
  imagingStudies: ['ImagingStudy/4'],
  ...over,
});
const study = (over: Partial<FoundImagingStudy> = {}): FoundImagingStudy => ({
  reference: 'ImagingStudy/4',
  studyUid: '2.25.1',
  title: 'CT heart',
  date: daysAgo(20),
  seriesUids: ['2.25.1.1'],
  inPacs: { instances: 300, seriesUids: ['2.25.1.1'] },
  ...over,
});

describe('the relevance rule', () => {
  it("takes a record of the referral's specialty within the look-back window", () => {
    expect(judge('document', daysAgo(10), 'match', rule)).toMatchObject({ relevant: true });
  });
  it('leaves out a record older than the window, and says why', () => {
    expect(judge('document', daysAgo(731), 'match', rule)).toEqual({
      relevant: false,
      relevance: 'older than the 730-day look-back window',
    });
  });
  it('leaves out a record of another specialty', () => {
    expect(judge('diagnostic-report', daysAgo(1), 'other', rule)).toMatchObject({ relevant: false, relevance: 'not cardiology' });
  });
  it('leaves out a kind that was not asked for', () => {
    expect(judge('document', daysAgo(1), 'match', { ...rule, documentKinds: ['test-results'] })).toMatchObject({
      relevant: false,
      relevance: 'clinic-letters were not asked for',
    });
  });
  it('takes an undated or uncoded record (a clinician decides; the GP may exclude it)', () => {
    expect(judge('document', null, 'uncoded', rule)).toMatchObject({ relevant: true });
  });
});

describe('building a manifest', () => {
  it('lists documents, then imaging, then the reports that refer to it, each judged', () => {
    const { items } = buildManifest(
      {
        documents: [letter(), letter({ reference: 'DocumentReference/9', practiceSetting: dermatology, date: daysAgo(1800) })],
        reports: [report()],
        studies: [study()],
      },
      rule,
    );
    expect(items.map((i) => [i.kind, i.sourceReference, i.relevant])).toEqual([
      ['document', 'DocumentReference/1', true],
      ['document', 'DocumentReference/9', false],
      ['imaging-study', 'ImagingStudy/4', true],
      ['diagnostic-report', 'DiagnosticReport/2', true],
    ]);
    expect(items[0]).toMatchObject({ mediaType: 'application/pdf', size: 1234, sha256: 'a'.repeat(64) });
    expect(items[2]).toMatchObject({ relevance: 'a relevant report is about it', detail: { studyUid: '2.25.1', instances: 300 } });
  });

  it('follows the reports about a study: excluded when only reports of other specialties are about it', () => {
    const { items } = buildManifest({ documents: [], reports: [report({ categories: [dermatology] })], studies: [study()] }, rule);
    expect(items.find((i) => i.kind === 'imaging-study')).toMatchObject({
      relevant: false,
      relevance: 'only reports of other specialties are about it',
    });
  });

  it('takes a recent study no report is about, and lists one only the PACS knows for the GP to add', () => {
    const { items } = buildManifest(
      {
        documents: [],
        reports: [],
        studies: [study(), study({ reference: null, studyUid: '2.25.7' }), study({ reference: 'ImagingStudy/8', date: daysAgo(900) })],
      },
      rule,
    );
    expect(items.map((i) => [i.sourceReference, i.relevant, i.relevance])).toEqual([
      ['ImagingStudy/4', true, 'within the window; no report says which specialty it is for'],
      ['Study/2.25.7', false, 'in the PACS only: no record in the EHR describes it'],
      ['ImagingStudy/8', false, 'older than the 730-day look-back window'],
    ]);
  });
});

describe('gap detection', () => {
  it("finds a report's study whose images are not in the PACS", () => {
    const { gaps, items } = buildManifest({ documents: [], reports: [report()], studies: [study({ inPacs: null })] }, rule);
    expect(gaps).toEqual([
      {
        reference: 'ImagingStudy/4 (study 2.25.1)',
        referencedBy: 'DiagnosticReport/2',
        kind: 'imaging-study',
        reason: "the study's images are not in the PACS",
      },
    ]);
    expect(items.some((i) => i.kind === 'imaging-study')).toBe(false);
  });

  it('finds a study the report names that the EHR does not hold', () => {
    const { gaps } = buildManifest({ documents: [], reports: [report({ imagingStudies: ['ImagingStudy/404'] })], studies: [] }, rule);
    expect(gaps).toEqual([expect.objectContaining({ reference: 'ImagingStudy/404', kind: 'imaging-study' })]);
  });

  it('finds a series the EHR lists that the PACS lacks', () => {
    const { gaps } = buildManifest(
      { documents: [], reports: [report()], studies: [study({ seriesUids: ['2.25.1.1', '2.25.1.2'] })] },
      rule,
    );
    expect(gaps).toEqual([
      expect.objectContaining({ kind: 'imaging-series', referencedBy: 'ImagingStudy/4', reference: 'ImagingStudy/4 (series 2.25.1.2)' }),
    ]);
  });

  it('finds a letter whose file is not at the source, and marks the letter missing', () => {
    const { gaps, items } = buildManifest(
      {
        documents: [letter({ attachments: [{ url: 'Binary/gone', contentType: 'application/pdf', size: null, sha256: null }] })],
        reports: [],
        studies: [],
      },
      rule,
    );
    expect(gaps).toEqual([expect.objectContaining({ reference: 'Binary/gone', referencedBy: 'DocumentReference/1', kind: 'attachment' })]);
    expect(items[0]).toMatchObject({ missing: true, sha256: null });
  });

  it('reports only the gaps of what was sent', () => {
    const gaps = [
      { reference: 'a', referencedBy: 'DiagnosticReport/2' },
      { reference: 'b', referencedBy: 'DiagnosticReport/9' },
    ];
    expect(gapsOfSentItems(gaps, new Set(['DiagnosticReport/2']))).toEqual([gaps[0]]);
  });
});
