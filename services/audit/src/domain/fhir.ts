import { randomUUID } from 'node:crypto';
import { parseEntry, type EntryDocument } from './entry-document';
import { EVIDENCE_FORMAT, UNSEALED_EVIDENCE_FORMAT, type EvidencePack, type ProofSegment } from './evidence';

/* FHIR R4 AuditEvent, shaped after IHE Basic Audit Log Patterns (BALP): access events as RESTful reads/searches
 * (or an export), the network's own events as application activity; every AuditEvent carries its chain entry
 * (canonical text, position, hash), and a Binary carries the chain proof, so the bundle verifies offline. */

const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/';
const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const SONET_EVENT_TYPE = 'urn:sonet:audit:event-type';
export const SONET_REFERRAL = 'urn:sonet:referral';
export const SONET_PATIENT_KEY = 'urn:sonet:audit:patient-key:hmac-sha256';
export const SONET_ENTRY = 'urn:sonet:audit:entry';
export const PROOF_CONTENT_TYPE = 'application/vnd.sonet.audit-proof+json';

const PURPOSE: Record<string, string> = {
  'direct-care': 'TREAT',
  'patient-request': 'PATRQT',
  operations: 'HOPERAT',
  audit: 'HCOMPL',
  complaint: 'HOPERAT',
};

interface AccessData {
  actor?: { subject?: string; role?: string; organisation?: string };
  purpose?: string;
  resource?: { service?: string; kind?: string; action?: string };
}

export type FhirResource = Record<string, unknown> & { resourceType: string };

function auditEventOf(seq: string, hash: string, canonical: string, doc: EntryDocument, patientKey: string | null): FhirResource {
  const isAccess = doc.event.type.startsWith('access.');
  const data = (doc.event.data ?? {}) as AccessData;
  const action = data.resource?.action;
  const typeCoding =
    isAccess && action === 'export'
      ? { system: DCM, code: '110106', display: 'Export' }
      : isAccess
        ? { system: AUDIT_EVENT_TYPE, code: 'rest', display: 'Restful Operation' }
        : { system: DCM, code: '110100', display: 'Application Activity' };
  const profile = isAccess ? (action === 'search' ? 'IHE.BasicAudit.PatientQuery' : 'IHE.BasicAudit.PatientRead') : 'IHE.BasicAudit.Create';
  const agents: Record<string, unknown>[] = [];
  if (isAccess && data.actor) {
    agents.push({
      type: { coding: [{ system: PARTICIPATION, code: 'IRCP', display: 'information recipient' }] },
      who: { identifier: { system: 'urn:sonet:principal', value: data.actor.subject } },
      role: data.actor.role ? [{ coding: [{ system: 'urn:sonet:role', code: data.actor.role }] }] : undefined,
      requestor: true,
    });
    if (data.actor.organisation) {
      agents.push({ who: { identifier: { system: ODS, value: data.actor.organisation } }, requestor: false });
    }
  }
  agents.push({
    type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
    who: { display: doc.event.source },
    requestor: !isAccess,
  });
  const entities: Record<string, unknown>[] = [
    {
      what: { identifier: { system: SONET_REFERRAL, value: doc.event.subject } },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
      ...(isAccess && data.resource?.kind ? { description: data.resource.kind } : {}),
    },
    {
      what: { identifier: { system: SONET_ENTRY, value: seq } },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '13', display: 'Security Resource' },
      detail: [
        { type: 'sonet-canonical', valueBase64Binary: Buffer.from(canonical, 'utf8').toString('base64') },
        { type: 'sonet-hash', valueString: hash },
        { type: 'sonet-recorded-at', valueString: doc.recordedAt },
      ],
    },
  ];
  if (patientKey) {
    entities.unshift({
      what: { identifier: { system: SONET_PATIENT_KEY, value: patientKey } },
      type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    });
  }
  return {
    resourceType: 'AuditEvent',
    id: doc.event.id,
    meta: { profile: [`${BALP}${profile}`] },
    type: typeCoding,
    subtype: [
      ...(isAccess ? [{ system: RESTFUL, code: action === 'search' ? 'search-type' : 'read' }] : []),
      { system: SONET_EVENT_TYPE, code: doc.event.type },
    ],
    action: isAccess ? 'R' : 'E',
    recorded: doc.event.time,
    outcome: '0',
    ...(isAccess && data.purpose && PURPOSE[data.purpose]
      ? { purposeOfEvent: [{ coding: [{ system: ACT_REASON, code: PURPOSE[data.purpose] }], text: data.purpose }] }
      : {}),
    agent: agents.map((a) => JSON.parse(JSON.stringify(a)) as Record<string, unknown>),
    source: {
      site: 'sonet',
      observer: { display: doc.event.source },
      type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }],
    },
    entity: entities,
  };
}

/** The pack as a FHIR R4 Bundle (type collection) of AuditEvents plus one Binary with the proof. */
export function toFhirBundle(pack: EvidencePack): FhirResource {
  const docs = pack.entries.map((e) => ({ e, doc: parseEntry(e.canonical) }));
  const patientKey = docs.map((d) => d.doc.index.patientKey).find((k) => k !== null) ?? null;
  const proof = {
    format: pack.format,
    chain: pack.chain,
    referralId: pack.referralId,
    exportedAt: pack.exportedAt,
    publicKeyPem: pack.publicKeyPem,
    proof: pack.proof,
    ...(pack.seal ? { seal: pack.seal } : {}),
  };
  const proofId = randomUUID();
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: pack.exportedAt },
    identifier: { system: SONET_REFERRAL, value: pack.referralId },
    type: 'collection',
    timestamp: pack.exportedAt,
    entry: [
      ...docs.map(({ e, doc }) => ({
        fullUrl: `urn:uuid:${doc.event.id}`,
        resource: auditEventOf(e.seq, e.hash, e.canonical, doc, patientKey),
      })),
      {
        fullUrl: `urn:uuid:${proofId}`,
        resource: {
          resourceType: 'Binary',
          id: proofId,
          contentType: PROOF_CONTENT_TYPE,
          data: Buffer.from(JSON.stringify(proof), 'utf8').toString('base64'),
        },
      },
    ],
  };
}

/** Reads a bundle made by toFhirBundle back into a pack (for offline verification). */
export function packFromFhirBundle(bundle: FhirResource): EvidencePack {
  const entries = (bundle.entry as { resource: FhirResource }[] | undefined) ?? [];
  const binary = entries.map((e) => e.resource).find((r) => r.resourceType === 'Binary' && r.contentType === PROOF_CONTENT_TYPE);
  if (!binary) throw new Error('the bundle has no chain proof (Binary ' + PROOF_CONTENT_TYPE + ')');
  const proof = JSON.parse(Buffer.from(String(binary.data), 'base64').toString('utf8')) as Omit<EvidencePack, 'entries' | 'proof'> & {
    proof: ProofSegment[];
  };
  const packEntries = entries
    .map((e) => e.resource)
    .filter((r) => r.resourceType === 'AuditEvent')
    .map((r) => {
      const entity = (
        r.entity as {
          what?: { identifier?: { system?: string; value?: string } };
          detail?: { type: string; valueBase64Binary?: string; valueString?: string }[];
        }[]
      ).find((x) => x.what?.identifier?.system === SONET_ENTRY);
      const detail = (t: string) => entity?.detail?.find((d) => d.type === t);
      return {
        seq: entity?.what?.identifier?.value ?? '',
        hash: detail('sonet-hash')?.valueString ?? '',
        canonical: Buffer.from(detail('sonet-canonical')?.valueBase64Binary ?? '', 'base64').toString('utf8'),
      };
    });
  // The bundle's AuditEvents in bundle order: a reordered bundle is a reordered pack.
  return {
    ...proof,
    format: proof.format === UNSEALED_EVIDENCE_FORMAT ? UNSEALED_EVIDENCE_FORMAT : EVIDENCE_FORMAT,
    entries: packEntries,
    proof: proof.proof,
  };
}
