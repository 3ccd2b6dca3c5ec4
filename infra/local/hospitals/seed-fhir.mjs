#!/usr/bin/env node
// Demo FHIR records for the local EHR (infra/local/fhir.sh): the patients, letters, reports, observations and
// imaging studies that demo-records.md (next to this file) describes, in each trust's tenant, with its credentials.
// Plain Node ESM, no dependencies (Node >= 20, global fetch).
//
//   node infra/local/hospitals/seed-fhir.mjs [--only ODS]
//
// Idempotent: a letter's PDF is a Binary PUT to a fixed id only when that id does not exist yet; everything else
// goes in one transaction Bundle per patient whose entries are conditional creates (`ifNoneExist` on the NHS number
// for the Patient, on the `https://sonet.example/demo-records` identifier for the rest). Running it twice creates
// nothing new. Prints one summary line; exits 1 with a message when the EHR is not reachable or refuses the seed.
// Env: FHIR_BASE_URL (http://127.0.0.1:<FHIR_PORT or hospitals.json fhir.port><fhir.basePath>), FHIR_PORT.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const hospitals = JSON.parse(readFileSync(path.join(HERE, 'hospitals.json'), 'utf8'));
const BASE_URL = (
  process.env.FHIR_BASE_URL ?? `http://127.0.0.1:${process.env.FHIR_PORT ?? hospitals.fhir.port}${hospitals.fhir.basePath}`
).replace(/\/+$/, '');

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const DEMO = 'https://sonet.example/demo-records';
const SCT = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

const SPECIALTY = {
  cardiology: { system: SCT, code: '394579002', display: 'Cardiology' },
  oncology: { system: SCT, code: '394593009', display: 'Medical oncology' },
  rheumatology: { system: SCT, code: '394810000', display: 'Rheumatology' },
  respiratory: { system: SCT, code: '418112009', display: 'Respiratory medicine' },
  dermatology: { system: SCT, code: '394582007', display: 'Dermatology' },
};
const DEPARTMENT = {
  cardiology: 'Cardiology Outpatients',
  oncology: 'Oncology Outpatients',
  rheumatology: 'Rheumatology Clinic',
  dermatology: 'Dermatology Outpatients',
};

// ---------------------------------------------------------------------------------------------------------------
// The records (demo-records.md). Dates of letters and reports are relative to the first seeding ("last 3 months",
// "5 years ago"); imaging dates are the DICOM StudyDate/StudyTime of the PACS seed (seed-pacs.mjs), fixed.

const DAY = 24 * 3600 * 1000;
const NOW = Date.now();
const daysAgo = (d, hour = 10, minute = 0) => {
  const t = new Date(NOW - d * DAY);
  t.setUTCHours(hour, minute, 0, 0);
  return t.toISOString().replace('.000Z', 'Z');
};

/** Imaging studies; dates/descriptions as in seed-pacs.mjs (which may override them below when importable). */
const STUDIES = {
  '2.25.1000001': {
    inPacs: true,
    slices: 300,
    started: '2026-10-20T10:15:00Z',
    description: 'CT coronary angiogram',
    series: 'Cardiac 0.5mm CTA',
    bodyPart: 'HEART',
  },
  '2.25.1000002': {
    inPacs: false,
    slices: 180,
    started: daysAgo(40, 11, 20),
    description: 'CT coronary angiogram (follow-up)',
    series: 'Cardiac 0.5mm CTA',
    bodyPart: 'HEART',
  },
  '2.25.4000001': {
    inPacs: true,
    slices: 200,
    started: '2026-10-21T14:30:00Z',
    description: 'CT coronary angiogram',
    series: 'Cardiac 0.5mm CTA',
    bodyPart: 'HEART',
  },
  '2.25.4000002': {
    inPacs: false,
    slices: 160,
    started: daysAgo(41, 9, 40),
    description: 'CT coronary angiogram (follow-up)',
    series: 'Cardiac 0.5mm CTA',
    bodyPart: 'HEART',
  },
  '2.25.2000001': {
    inPacs: true,
    slices: 250,
    started: '2026-11-05T09:10:00Z',
    description: 'CT chest with contrast',
    series: 'Chest 1.25mm',
    bodyPart: 'CHEST',
  },
};
try {
  const pacs = await import('./seed-pacs.mjs');
  for (const s of pacs.DEMO_STUDIES ?? []) {
    const mine = STUDIES[s.studyUid];
    if (!mine || !/^\d{8}$/.test(s.studyDate ?? '')) continue;
    const t = /^\d{6}/.test(s.studyTime ?? '') ? s.studyTime : '000000';
    mine.started = `${s.studyDate.slice(0, 4)}-${s.studyDate.slice(4, 6)}-${s.studyDate.slice(6, 8)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}Z`;
    if (s.slices && s.slices !== mine.slices) {
      process.stderr.write(`seed-fhir: warning: seed-pacs.mjs has ${s.slices} slices for ${s.studyUid}, demo-records.md ${mine.slices}\n`);
    }
    mine.description = s.description ?? mine.description;
    mine.series = s.seriesDescription ?? mine.series;
    mine.bodyPart = s.bodyPart ?? mine.bodyPart;
  }
} catch {
  // seed-pacs.mjs missing or not importable: the values above are the same
}

/** Aisha's set; Ann has the same one with her own study UIDs and slice counts. */
/**
 * A short, stable tag for a demo patient, used in resource ids and demo identifiers instead of the NHS number:
 * ids travel (in gap reports, logs, URLs) where a patient identifier must not.
 */
const tagOf = (p) => `p${createHash('sha256').update(`demo-patient/${p.nhs}`).digest('hex').slice(0, 10)}`;

function cardiologySet(p, ctUid, missingUid) {
  return {
    letters: [
      {
        key: 'cardiology-letter',
        specialty: 'cardiology',
        date: daysAgo(23, 14, 5),
        title: 'Cardiology clinic letter',
        body: [
          'Thank you for referring this patient with exertional chest tightness and breathlessness.',
          'Examination: BP 138/84, HR 72 regular, heart sounds normal, no peripheral oedema.',
          'ECG: sinus rhythm, no acute ST changes. Echo: preserved LV function (EF 58%).',
          'CT coronary angiography shows moderate proximal LAD stenosis (50-69%), calcium score 212.',
          'Plan: start bisoprolol 2.5 mg od and atorvastatin 80 mg on; review with stress imaging.',
          'A second opinion on revascularisation versus optimal medical therapy would be welcome.',
        ],
        appendixLines: p.nhs === '9991000011' ? 40 : 160,
      },
      {
        key: 'dermatology-letter',
        specialty: 'dermatology',
        date: daysAgo(5 * 365 + 12, 11, 30),
        title: 'Dermatology clinic letter',
        body: [
          'Seen for a pigmented lesion on the left forearm, present for several years.',
          'Dermoscopy: symmetrical reticular pattern, no features of melanoma.',
          'Diagnosis: benign melanocytic naevus. No follow-up needed; discharged to GP.',
        ],
        appendixLines: 25,
      },
    ],
    reports: [
      {
        key: 'echo-report',
        specialty: 'cardiology',
        category: { system: V2_0074, code: 'CUS', display: 'Cardiac Ultrasound' },
        code: { system: LOINC, code: '34552-0', display: 'Cardiac 2D echo panel' },
        effective: daysAgo(16, 9, 30),
        conclusion: 'Normal LV size with preserved systolic function. No significant valve disease.',
        observations: [
          {
            key: 'echo-lvef',
            code: { system: LOINC, code: '10230-1', display: 'Left ventricular Ejection fraction' },
            value: 58,
            unit: '%',
            ucum: '%',
          },
          {
            key: 'echo-lvidd',
            code: { system: LOINC, code: '29436-3', display: 'Left ventricular internal diameter end diastole' },
            value: 4.9,
            unit: 'cm',
            ucum: 'cm',
          },
          { key: 'echo-hr', code: { system: LOINC, code: '8867-4', display: 'Heart rate' }, value: 72, unit: 'beats/minute', ucum: '/min' },
        ],
      },
      {
        key: 'ct-followup-report',
        specialty: 'cardiology',
        category: { system: V2_0074, code: 'CT', display: 'CAT Scan' },
        code: { system: LOINC, code: '18748-4', display: 'Diagnostic imaging study' },
        effective: STUDIES[missingUid].started,
        conclusion: 'Follow-up CT coronary angiogram: stable moderate proximal LAD stenosis, no new disease.',
        observations: [],
        imagingStudy: missingUid,
      },
    ],
    studies: [ctUid, missingUid],
  };
}

const PATIENTS = [
  {
    ods: 'RJ1',
    nhs: '9991000011',
    family: 'Rahman',
    given: 'Aisha',
    gender: 'female',
    birthDate: '1971-03-14',
    ...cardiologySet({ nhs: '9991000011' }, '2.25.1000001', '2.25.1000002'),
  },
  {
    ods: 'RJ1',
    nhs: '9994000047',
    family: 'Example',
    given: 'Ann',
    gender: 'female',
    birthDate: '1965-07-02',
    ...cardiologySet({ nhs: '9994000047' }, '2.25.4000001', '2.25.4000002'),
    // a DocumentReference whose Binary does not exist (a gap)
    danglingLetter: {
      key: 'missing-binary-letter',
      specialty: 'cardiology',
      date: daysAgo(50, 15, 0),
      title: 'Cardiology discharge summary',
    },
  },
  {
    ods: 'RTH',
    nhs: '9992000023',
    family: 'Whitfield',
    given: 'Tom',
    gender: 'male',
    birthDate: '1958-11-23',
    letters: [
      {
        key: 'oncology-letter',
        specialty: 'oncology',
        date: daysAgo(9, 16, 20),
        title: 'Oncology clinic letter',
        body: [
          'Reviewed in the lung cancer clinic following CT chest and CT-guided biopsy.',
          'Histology: adenocarcinoma of the right upper lobe, TTF-1 positive; PD-L1 pending.',
          'Staging CT: 2.3 cm RUL mass with a single ipsilateral hilar node; no distant disease.',
          'Performance status 1. Discussed at the lung MDT: proposed lobectomy and nodal dissection.',
          'He has asked for a second opinion on surgery versus stereotactic radiotherapy.',
        ],
        appendixLines: 1900,
      },
    ],
    reports: [
      {
        key: 'histology-report',
        specialty: 'oncology',
        category: { system: V2_0074, code: 'SP', display: 'Surgical Pathology' },
        code: { system: LOINC, code: '11526-1', display: 'Pathology study' },
        effective: daysAgo(19, 12, 0),
        conclusion: 'CT-guided biopsy, right upper lobe: invasive adenocarcinoma, acinar predominant.',
        observations: [
          {
            key: 'histology-tumour-size',
            code: { system: LOINC, code: '21889-1', display: 'Size Tumor' },
            value: 2.3,
            unit: 'cm',
            ucum: 'cm',
          },
          {
            key: 'histology-nodes-positive',
            code: { system: LOINC, code: '21893-3', display: 'Regional lymph nodes positive [#] Specimen' },
            value: 1,
            unit: 'nodes',
            ucum: '{#}',
          },
        ],
      },
    ],
    studies: ['2.25.2000001'],
  },
  {
    ods: 'RXF',
    nhs: '9993000035',
    family: 'Okafor',
    given: 'Grace',
    gender: 'female',
    birthDate: '1983-05-30',
    letters: [
      {
        key: 'rheumatology-letter',
        specialty: 'rheumatology',
        date: daysAgo(31, 10, 45),
        title: 'Rheumatology clinic letter',
        body: [
          'Seen with a six-month history of symmetrical small joint polyarthritis and morning stiffness.',
          'Examination: synovitis of MCP 2-3 bilaterally and both wrists. DAS28-CRP 4.6.',
          'Rheumatoid factor and anti-CCP positive. Hand X-rays: periarticular osteopenia, no erosions.',
          'Plan: methotrexate 15 mg weekly with folic acid, short course of prednisolone; review in 6 weeks.',
        ],
        appendixLines: 420,
      },
    ],
    reports: [
      {
        key: 'lab-report',
        specialty: 'rheumatology',
        category: { system: V2_0074, code: 'LAB', display: 'Laboratory' },
        code: { system: LOINC, code: '11502-2', display: 'Laboratory report' },
        effective: daysAgo(36, 8, 50),
        conclusion: 'Raised inflammatory markers.',
        observations: [
          {
            key: 'lab-crp',
            code: { system: LOINC, code: '1988-5', display: 'C reactive protein [Mass/volume] in Serum or Plasma' },
            value: 34,
            unit: 'mg/L',
            ucum: 'mg/L',
          },
          {
            key: 'lab-esr',
            code: { system: LOINC, code: '4537-7', display: 'Erythrocyte sedimentation rate by Westergren method' },
            value: 41,
            unit: 'mm/h',
            ucum: 'mm/h',
          },
        ],
      },
    ],
    studies: [],
  },
];

// ---------------------------------------------------------------------------------------------------------------
// A small, valid PDF (1.4, Helvetica, uncompressed text), built by hand: catalog, pages, font, one content
// stream per page, xref table with exact byte offsets.

function pdfEscape(s) {
  return s.replace(/[^\x20-\x7e]/g, '?').replace(/([\\()])/g, '\\$1');
}

function makePdf(title, lines) {
  const perPage = 52;
  const pages = [];
  for (let i = 0; i < Math.max(1, lines.length); i += perPage) pages.push(lines.slice(i, i + perPage));
  const objects = []; // index = object number - 1
  const pageObjNums = pages.map((_, i) => 5 + 2 * i);
  objects.push('<< /Type /Catalog /Pages 2 0 R >>');
  objects.push(`<< /Type /Pages /Kids [${pageObjNums.map((n) => `${n} 0 R`).join(' ')}] /Count ${pages.length} >>`);
  objects.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  objects.push(`<< /Title (${pdfEscape(title)}) /Producer (sonet seed-fhir.mjs) >>`);
  pages.forEach((pageLines, i) => {
    const ops = ['BT', '/F1 10 Tf', '14 TL', '56 800 Td'];
    pageLines.forEach((line, j) => {
      if (line.startsWith('# ')) ops.push('/F1 13 Tf', `(${pdfEscape(line.slice(2))}) Tj`, '/F1 10 Tf');
      else ops.push(`(${pdfEscape(line)}) Tj`);
      if (j < pageLines.length - 1) ops.push('T*');
    });
    ops.push('ET', 'BT', '/F1 8 Tf', '56 30 Td', `(Page ${i + 1} of ${pages.length}) Tj`, 'ET');
    const stream = ops.join('\n');
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents ${pageObjNums[i] + 1} 0 R >>`,
    );
    objects.push(`<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`);
  });
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 4 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

function letterPdf(trust, patient, letter) {
  const nhsSpaced = `${patient.nhs.slice(0, 3)} ${patient.nhs.slice(3, 6)} ${patient.nhs.slice(6)}`;
  const lines = [
    `# ${trust.name}`,
    DEPARTMENT[letter.specialty] ?? 'Outpatients',
    '',
    `# ${letter.title}`,
    `Date: ${letter.date.slice(0, 10)}`,
    `Re: ${patient.given} ${patient.family.toUpperCase()}   NHS number: ${nhsSpaced}   DOB: ${patient.birthDate}`,
    '',
    'Dear Colleague,',
    '',
    ...letter.body,
    '',
    'Yours sincerely,',
    '',
    `Consultant, ${DEPARTMENT[letter.specialty] ?? 'Outpatients'}`,
    'SYNTHETIC DEMO RECORD - NOT A REAL PATIENT',
  ];
  if (letter.appendixLines > 0) {
    lines.push('', '# Appendix: results and medication history');
    for (let i = 1; i <= letter.appendixLines; i++) {
      // deterministic filler that reads like a results table
      const v = ((i * 7919) % 1000) / 10;
      lines.push(
        `${String(i).padStart(4, '0')}  ${daysAgoDate(letter.date, i)}  result ${v.toFixed(1)}  reference 0.0-100.0  reviewed, no action required`,
      );
    }
  }
  return makePdf(`${letter.title} - ${patient.given} ${patient.family}`, lines);
}

function daysAgoDate(iso, n) {
  return new Date(Date.parse(iso) - n * 7 * DAY).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

class SeedError extends Error {}

function authHeader(trust) {
  return `Basic ${Buffer.from(`${trust.fhir.username}:${trust.fhir.password}`).toString('base64')}`;
}

async function request(trust, method, rel, { body, headers = {} } = {}) {
  const url = `${BASE_URL}/${trust.fhir.tenant}/${rel}`;
  let res;
  try {
    res = await fetch(url, { method, body, headers: { Authorization: authHeader(trust), ...headers } });
  } catch (err) {
    throw new SeedError(
      `FHIR server not reachable at ${BASE_URL} (${err.cause?.code ?? err.message}): start it with infra/local/fhir.sh start`,
    );
  }
  const buf = Buffer.from(await res.arrayBuffer());
  if (res.status === 401 || res.status === 403) {
    throw new SeedError(
      `${method} ${url}: ${res.status}, the EHR refused ${trust.fhir.username}'s credentials for tenant ${trust.fhir.tenant}: ${diagnostics(buf)}`,
    );
  }
  if (res.status === 503) throw new SeedError(`${method} ${url}: 503, the EHR is still starting (infra/local/fhir.sh wait)`);
  return { status: res.status, body: buf };
}

function diagnostics(buf) {
  try {
    const j = JSON.parse(buf.toString('utf8'));
    return j.issue?.map((i) => i.diagnostics).join('; ') ?? buf.toString('utf8').slice(0, 300);
  } catch {
    return buf.toString('utf8').slice(0, 300);
  }
}

async function checkReachable(trust) {
  let res;
  try {
    res = await fetch(`${BASE_URL}/${trust.fhir.tenant}/metadata`, { headers: { Accept: 'application/fhir+json' } });
  } catch (err) {
    throw new SeedError(
      `FHIR server not reachable at ${BASE_URL} (${err.cause?.code ?? err.message}): start it with infra/local/fhir.sh start`,
    );
  }
  await res.arrayBuffer();
  if (res.status === 503)
    throw new SeedError(`the EHR at ${BASE_URL} is still starting: wait for it (infra/local/fhir.sh wait) and run again`);
  if (res.status !== 200)
    throw new SeedError(`GET ${BASE_URL}/${trust.fhir.tenant}/metadata answered ${res.status}: is this the local EHR?`);
}

// ---------------------------------------------------------------------------------------------------------------
// Seeding

const counts = { created: 0, existing: 0, binariesCreated: 0, binariesExisting: 0 };

const ident = (value) => ({ system: DEMO, value });
const codeable = (coding) => ({ coding: [coding], text: coding.display });

/** PUT the letter's PDF at its fixed id unless that id exists; the attachment describes the stored bytes. */
async function ensureBinary(trust, id, pdf) {
  const got = await request(trust, 'GET', `Binary/${id}`, { headers: { Accept: 'application/pdf' } });
  let bytes;
  if (got.status === 200) {
    bytes = got.body;
    counts.binariesExisting++;
  } else if (got.status === 404 || got.status === 410) {
    const put = await request(trust, 'PUT', `Binary/${id}`, {
      body: pdf,
      headers: { 'Content-Type': 'application/pdf', Accept: 'application/fhir+json' },
    });
    if (put.status !== 200 && put.status !== 201)
      throw new SeedError(`PUT Binary/${id} in ${trust.fhir.tenant}: ${put.status} ${diagnostics(put.body)}`);
    bytes = pdf;
    counts.binariesCreated++;
  } else {
    throw new SeedError(`GET Binary/${id} in ${trust.fhir.tenant}: ${got.status} ${diagnostics(got.body)}`);
  }
  return { size: bytes.length, hash: createHash('sha1').update(bytes).digest('base64') };
}

function entry(fullUrl, resource, ifNoneExist) {
  return { fullUrl, resource, request: { method: 'POST', url: resource.resourceType, ifNoneExist } };
}

function docRef(p, pRef, letter, attachment) {
  const spec = SPECIALTY[letter.specialty];
  return {
    resourceType: 'DocumentReference',
    identifier: [ident(`${tagOf(p)}-${letter.key}`)],
    status: 'current',
    type: codeable({ system: LOINC, code: '11488-4', display: 'Consult note' }),
    subject: { reference: pRef },
    date: letter.date,
    description: letter.title,
    content: [{ attachment: { contentType: 'application/pdf', ...attachment, title: letter.title, creation: letter.date } }],
    context: { practiceSetting: codeable(spec) },
  };
}

async function seedPatient(trust, p) {
  const uuid = (name) =>
    `urn:uuid:${createHash('sha256')
      .update(`${p.nhs}/${name}`)
      .digest('hex')
      .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, '$1-$2-$3-$4-$5')}`;
  const pRef = uuid('patient');
  const entries = [
    entry(
      pRef,
      {
        resourceType: 'Patient',
        identifier: [{ system: NHS, value: p.nhs }, ident(`${tagOf(p)}-patient`)],
        name: [{ use: 'official', family: p.family, given: [p.given] }],
        gender: p.gender,
        birthDate: p.birthDate,
      },
      `identifier=${NHS}|${p.nhs}`,
    ),
  ];

  for (const letter of p.letters) {
    const binaryId = `demo-${tagOf(p)}-${letter.key}`;
    const attachment = await ensureBinary(trust, binaryId, letterPdf(trust, p, letter));
    entries.push(
      entry(
        uuid(letter.key),
        docRef(p, pRef, letter, { url: `Binary/${binaryId}`, ...attachment }),
        `identifier=${DEMO}|${tagOf(p)}-${letter.key}`,
      ),
    );
  }
  if (p.danglingLetter) {
    const l = p.danglingLetter;
    // this Binary id is never created: the attachment points at nothing
    entries.push(
      entry(uuid(l.key), docRef(p, pRef, l, { url: `Binary/demo-${tagOf(p)}-${l.key}` }), `identifier=${DEMO}|${tagOf(p)}-${l.key}`),
    );
  }

  const endpointRef = uuid(`endpoint-${trust.ods}`);
  if (p.studies.length > 0) {
    entries.push(
      entry(
        endpointRef,
        {
          resourceType: 'Endpoint',
          identifier: [ident(`${trust.ods}-pacs-dicomweb`)],
          status: 'active',
          connectionType: {
            system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type',
            code: 'dicom-wado-rs',
            display: 'DICOM WADO-RS',
          },
          name: `${trust.ods} PACS DICOMweb (${trust.pacs.aet})`,
          payloadType: [codeable({ system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'any', display: 'Any' })],
          payloadMimeType: ['application/dicom'],
          address: `http://127.0.0.1:${trust.pacs.httpPort}/dicom-web`,
        },
        `identifier=${DEMO}|${trust.ods}-pacs-dicomweb`,
      ),
    );
  }
  const ct = { system: DCM, code: 'CT', display: 'Computed Tomography' };
  for (const studyUid of p.studies) {
    const s = STUDIES[studyUid];
    entries.push(
      entry(
        uuid(`study-${studyUid}`),
        {
          resourceType: 'ImagingStudy',
          identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${studyUid}` }, ident(`${tagOf(p)}-study-${studyUid}`)],
          status: 'available',
          modality: [ct],
          subject: { reference: pRef },
          started: s.started,
          endpoint: [{ reference: endpointRef }],
          numberOfSeries: 1,
          numberOfInstances: s.slices,
          description: s.description,
          series: [
            {
              uid: `${studyUid}.1`,
              number: 1,
              modality: ct,
              description: s.series,
              numberOfInstances: s.slices,
              bodySite: {
                system: SCT,
                code: s.bodyPart === 'CHEST' ? '51185008' : '80891009',
                display: s.bodyPart === 'CHEST' ? 'Thoracic structure' : 'Heart structure',
              },
              endpoint: [{ reference: endpointRef }],
            },
          ],
          // the SOP class of every instance, so a client can tell what to expect
          note: [{ text: `${s.slices} x CT Image Storage (${CT_IMAGE_STORAGE}), 512x512${s.inPacs ? '' : '; not in the PACS'}` }],
        },
        `identifier=${DEMO}|${tagOf(p)}-study-${studyUid}`,
      ),
    );
  }
  for (const r of p.reports) {
    const obsRefs = [];
    for (const o of r.observations) {
      const ref = uuid(o.key);
      obsRefs.push({ reference: ref });
      entries.push(
        entry(
          ref,
          {
            resourceType: 'Observation',
            identifier: [ident(`${tagOf(p)}-${o.key}`)],
            status: 'final',
            code: codeable(o.code),
            subject: { reference: pRef },
            effectiveDateTime: r.effective,
            valueQuantity: { value: o.value, unit: o.unit, system: UCUM, code: o.ucum },
          },
          `identifier=${DEMO}|${tagOf(p)}-${o.key}`,
        ),
      );
    }
    entries.push(
      entry(
        uuid(r.key),
        {
          resourceType: 'DiagnosticReport',
          identifier: [ident(`${tagOf(p)}-${r.key}`)],
          status: 'final',
          category: [{ coding: [SPECIALTY[r.specialty]], text: SPECIALTY[r.specialty].display }, codeable(r.category)],
          code: codeable(r.code),
          subject: { reference: pRef },
          effectiveDateTime: r.effective,
          issued: new Date(Date.parse(r.effective) + 2 * 3600 * 1000).toISOString(),
          result: obsRefs.length ? obsRefs : undefined,
          imagingStudy: r.imagingStudy ? [{ reference: uuid(`study-${r.imagingStudy}`) }] : undefined,
          conclusion: r.conclusion,
        },
        `identifier=${DEMO}|${tagOf(p)}-${r.key}`,
      ),
    );
  }
  // a report's ImagingStudy that is not in p.studies would be a dangling urn:uuid: catch it here, not in the server
  for (const r of p.reports) {
    if (r.imagingStudy && !p.studies.includes(r.imagingStudy)) throw new Error(`${r.key}: study ${r.imagingStudy} not seeded`);
  }

  const bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries };
  const res = await request(trust, 'POST', '', {
    body: JSON.stringify(bundle),
    headers: { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+json', Prefer: 'return=minimal' },
  });
  if (res.status !== 200)
    throw new SeedError(`transaction for ${p.given} ${p.family} in ${trust.fhir.tenant}: ${res.status} ${diagnostics(res.body)}`);
  const out = JSON.parse(res.body.toString('utf8'));
  for (const e of out.entry ?? []) {
    if (String(e.response?.status).startsWith('201')) counts.created++;
    else counts.existing++;
  }
}

async function main() {
  const argv = process.argv.slice(2);
  const onlyIdx = argv.indexOf('--only');
  const only = onlyIdx >= 0 ? argv[onlyIdx + 1] : undefined;
  if (argv.includes('--help') || argv.includes('-h') || (onlyIdx >= 0 && !only)) {
    process.stderr.write('usage: node infra/local/hospitals/seed-fhir.mjs [--only ODS]\n');
    process.exit(argv.includes('--help') || argv.includes('-h') ? 0 : 2);
  }
  const trusts = new Map(hospitals.trusts.map((t) => [t.ods, t]));
  const patients = PATIENTS.filter((p) => !only || p.ods === only);
  if (patients.length === 0) throw new SeedError(`no demo patients for trust ${only}`);
  for (const p of patients) if (!trusts.has(p.ods)) throw new SeedError(`trust ${p.ods} is not in hospitals.json`);

  await checkReachable(trusts.get(patients[0].ods));
  const perTrust = {};
  for (const p of patients) {
    await seedPatient(trusts.get(p.ods), p);
    perTrust[p.ods] = (perTrust[p.ods] ?? 0) + 1;
  }
  const where = Object.entries(perTrust)
    .map(([ods, n]) => `${ods} ${n}`)
    .join(', ');
  process.stdout.write(
    `seed-fhir: ${patients.length} patients (${where}) at ${BASE_URL}: ${counts.created} resources created, ${counts.existing} already there; ` +
      `${counts.binariesCreated} PDF Binaries created, ${counts.binariesExisting} already there\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`seed-fhir: ERROR: ${err instanceof SeedError ? err.message : (err.stack ?? err)}\n`);
  process.exit(1);
});
