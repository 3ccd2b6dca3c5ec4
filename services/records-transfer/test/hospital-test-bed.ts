import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MikroORM } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import {
  createEnvelope,
  dlqTopicOf,
  Events,
  RecordsTransferCancelRequested,
  RecordsTransferRequested,
  toWireMessage,
  type RecordsTransferRequestedData,
} from '@sonet/contracts';
import {
  KafkaBroker,
  KafkaInboxServer,
  MESSAGE_BROKER,
  readTopicsIntoMemory,
  type MessageBroker,
  type MessagePublisher,
} from '@sonet/messaging';
import { createServiceApp, runMigrations } from '@sonet/service-kit';
import {
  basicAuth,
  demoHospitals,
  freshDatabase,
  HttpFaultSwitch,
  integrationSettings,
  minimalPdf,
  randomTestNhsNumber,
  seedDicomStudy,
  sha256Of,
  teardown,
  teardownTimeout,
  testTokens,
  Toxiproxy,
  uniqueSuffix,
} from '@sonet/testing';
import { RecordsTransferAppModule } from '../src/app.module';
import { readRecordsTransferConfig, type RecordsTransferConfig } from '../src/config';
import { recordsTransferOrmOptions } from '../src/orm';
import type { StreamFaults } from '../src/activities/send';

export const SOURCE = 'RJ1';
export const TARGET = 'RTH';
const SNOMED = 'http://snomed.info/sct';
const cardiology = { coding: [{ system: SNOMED, code: '394579002', display: 'Cardiology' }] };

/**
 * The records-transfer service against the real hospital systems of two demo trusts (HAPI FHIR partitions RJ1 and
 * RTH, their Orthanc PACS), Kafka, Temporal and PostgreSQL, reached through Toxiproxy (and an HTTP hop that can
 * answer 503) so a test can inject faults. Commands go to a topic of its own, so the running network never sees them.
 */
export class HospitalTestBed {
  readonly settings = integrationSettings();
  readonly hospitals = demoHospitals();
  readonly tox = new Toxiproxy();
  readonly suffix = uniqueSuffix();
  readonly topic = `records.commands.test-${this.suffix}`;
  readonly taskQueue = `records-transfer-test-${this.suffix}`;
  readonly proxies = { fhir: `rt-fhir-${this.suffix}`, sourcePacs: `rt-src-pacs-${this.suffix}`, targetPacs: `rt-dst-pacs-${this.suffix}` };
  httpFaults!: HttpFaultSwitch;
  app!: NestFastifyApplication;
  url!: string;
  config!: RecordsTransferConfig;
  temporal!: Client;
  private db!: Awaited<ReturnType<typeof freshDatabase>>;
  private broker!: KafkaBroker;
  private publisher!: MessagePublisher;
  events!: Awaited<ReturnType<typeof readTopicsIntoMemory>>;
  tokens!: Awaited<ReturnType<typeof testTokens>>;
  connectorsJson!: string;

  async start(o: { runWorker?: boolean; faults?: StreamFaults; env?: Record<string, string> } = {}): Promise<void> {
    this.tokens = await testTokens();
    this.db = await freshDatabase('records_transfer');
    const fhir = await this.tox.proxy(this.proxies.fhir, `127.0.0.1:${new URL(this.hospitals.fhirBase(SOURCE)).port}`);
    const [host, port] = fhir.listen.split(':');
    this.httpFaults = new HttpFaultSwitch({ host: host!, port: Number(port) });
    const fhirVia = await this.httpFaults.start();
    const src = await this.tox.proxy(this.proxies.sourcePacs, `127.0.0.1:${this.hospitals.trust(SOURCE).pacs.httpPort}`);
    const dst = await this.tox.proxy(this.proxies.targetPacs, `127.0.0.1:${this.hospitals.trust(TARGET).pacs.httpPort}`);
    const trust = (ods: string, pacs: string) => {
      const t = this.hospitals.trust(ods);
      return {
        ods,
        fhir: {
          baseUrl: `http://${fhirVia}/fhir/${t.fhir.tenant}`,
          auth: { type: 'basic', username: t.fhir.username, password: t.fhir.password },
          timeoutMs: 15_000,
        },
        dicomweb: {
          baseUrl: `http://${pacs}/dicom-web`,
          auth: { type: 'basic', username: t.pacs.username, password: t.pacs.password },
          timeoutMs: 15_000,
        },
      };
    };
    this.connectorsJson = JSON.stringify({ trusts: [trust(SOURCE, src.listen), trust(TARGET, dst.listen)] });
    this.config = readRecordsTransferConfig({
      ...this.tokens.env,
      PGHOST: this.settings.pg.host,
      PGPORT: String(this.settings.pg.port),
      PGUSER: this.settings.pg.user,
      PGPASSWORD: this.settings.pg.password,
      PGDATABASE: this.db.dbName,
      KAFKA_BROKERS: this.settings.kafkaBrokers.join(','),
      KAFKA_CONSUMER_GROUP: `records-transfer.test-${this.suffix}`,
      TEMPORAL_ADDRESS: this.settings.temporalAddress,
      TEMPORAL_TASK_QUEUE: this.taskQueue,
      RECORDS_CONNECTORS_JSON: this.connectorsJson,
      RECORDS_REVIEW_HOLD_MS: '0',
      RECORDS_MAX_ATTEMPTS_PER_ITEM: '30',
      RECORDS_HEARTBEAT_TIMEOUT_MS: '5000',
      RUN_WORKER: String(o.runWorker ?? true),
      LOG_LEVEL: 'warn',
      ...o.env,
    });
    await runMigrations(recordsTransferOrmOptions(this.config));
    this.broker = new KafkaBroker({ brokers: this.settings.kafkaBrokers, clientId: `records-transfer-test-${this.suffix}` });
    await this.broker.ensureTopics([this.topic, dlqTopicOf(this.topic)].map((name) => ({ name, partitions: 3, retentionMs: 3_600_000 })));
    this.app = await createServiceApp({
      module: RecordsTransferAppModule.forRoot(this.config, o.faults ? { faults: o.faults } : {}),
      host: '127.0.0.1',
      port: 0,
      openApi: { title: 't', description: 't', version: '1' },
      transport: (a) =>
        new KafkaInboxServer(a.get(MikroORM), a.get<MessageBroker>(MESSAGE_BROKER), {
          groupId: this.config.KAFKA_CONSUMER_GROUP,
          topics: [this.topic],
          registry: Events,
          backoffMs: 10,
        }),
    });
    this.url = await this.app.getUrl();
    this.publisher = await this.broker.publisher();
    this.events = await readTopicsIntoMemory(this.settings.kafkaBrokers, ['records.events.v1']);
    this.temporal = new Client({ connection: await Connection.connect({ address: this.settings.temporalAddress }) });
  }

  /** Bounded: a worker draining an activity or a consumer mid-rebalance is left behind, not waited on past the hook. */
  async stop(): Promise<void> {
    await teardown([
      ['event consumer', () => this.events?.stop()],
      ['Kafka producer', () => this.broker?.close()],
      ['records-transfer app', () => this.app?.close()],
      ['Temporal client', () => this.temporal?.connection.close()],
      ['HTTP fault proxy', () => this.httpFaults?.stop()],
      ['toxiproxy proxies', () => Promise.all(Object.values(this.proxies).map((p) => this.tox.remove(p)))],
      ['database', () => this.db?.drop()],
    ]);
  }

  /** The afterAll timeout that fits `stop()`. */
  static readonly stopTimeoutMs = teardownTimeout(7);

  get orm(): MikroORM {
    return this.app.get(MikroORM);
  }

  /** A patient with records at the source trust: a cardiology letter, an echo report with results about a CT study
   * (in the PACS), an older dermatology letter (not relevant), and a report about a study whose images are missing. */
  async seedPatient(o: { slices: number }): Promise<SeededPatient> {
    const nhsNumber = randomTestNhsNumber();
    const t = this.hospitals.trust(SOURCE);
    const base = this.hospitals.fhirBase(SOURCE);
    const auth = basicAuth(t.fhir.username, t.fhir.password);
    const id = `t${this.suffix}${uniqueSuffix()}`;
    const put = async (type: string, rid: string, body: unknown, contentType = 'application/fhir+json') => {
      const res = await fetch(`${base}/${type}/${rid}`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': contentType },
        body: Buffer.isBuffer(body) ? body : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`seeding ${type}/${rid}: HTTP ${res.status} ${await res.text()}`);
    };
    const pdf = minimalPdf(`Cardiology clinic letter for test patient ${id} ${'x'.repeat(2000)}`);
    const studyUid = `2.25.${BigInt(`0x${sha256Of(id).slice(0, 24)}`)}`;
    const missingStudyUid = `${studyUid}9`;
    const now = new Date();
    const ago = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
    const subject = { reference: `Patient/${id}-p` };
    await put('Patient', `${id}-p`, {
      resourceType: 'Patient',
      id: `${id}-p`,
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber }],
      name: [{ family: 'Test', given: ['Transfer'] }],
      birthDate: '1960-01-01',
    });
    await put('Binary', `${id}-pdf`, pdf, 'application/pdf');
    await put('DocumentReference', `${id}-letter`, {
      resourceType: 'DocumentReference',
      id: `${id}-letter`,
      status: 'current',
      subject,
      date: ago(10),
      description: 'Cardiology clinic letter',
      type: { coding: [{ system: 'http://loinc.org', code: '11488-4', display: 'Consult note' }] },
      context: { practiceSetting: cardiology },
      content: [{ attachment: { contentType: 'application/pdf', url: `Binary/${id}-pdf`, size: pdf.length, title: 'letter.pdf' } }],
    });
    await put('DocumentReference', `${id}-old`, {
      resourceType: 'DocumentReference',
      id: `${id}-old`,
      status: 'current',
      subject,
      date: ago(2000),
      description: 'Dermatology letter',
      context: { practiceSetting: { coding: [{ system: SNOMED, code: '394582007', display: 'Dermatology' }] } },
      content: [{ attachment: { contentType: 'application/pdf', url: `Binary/${id}-pdf`, size: pdf.length } }],
    });
    await put('Observation', `${id}-o1`, {
      resourceType: 'Observation',
      id: `${id}-o1`,
      status: 'final',
      subject,
      code: { coding: [{ system: 'http://loinc.org', code: '10230-1', display: 'Left ventricular ejection fraction' }] },
      valueQuantity: { value: 55, unit: '%' },
    });
    await put('ImagingStudy', `${id}-ct`, {
      resourceType: 'ImagingStudy',
      id: `${id}-ct`,
      status: 'available',
      subject,
      started: ago(12),
      description: 'CT heart',
      identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${studyUid}` }],
      numberOfSeries: 1,
      numberOfInstances: o.slices,
      series: [
        {
          uid: `${studyUid}.1`,
          modality: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'CT' },
          numberOfInstances: o.slices,
        },
      ],
    });
    await put('ImagingStudy', `${id}-gone`, {
      resourceType: 'ImagingStudy',
      id: `${id}-gone`,
      status: 'available',
      subject,
      started: ago(40),
      description: 'CT chest (images lost)',
      identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${missingStudyUid}` }],
    });
    await put('DiagnosticReport', `${id}-echo`, {
      resourceType: 'DiagnosticReport',
      id: `${id}-echo`,
      status: 'final',
      subject,
      category: [cardiology],
      effectiveDateTime: ago(11),
      code: { coding: [{ system: 'http://loinc.org', code: '34552-0', display: 'Cardiac echo study' }] },
      result: [{ reference: `Observation/${id}-o1` }],
      imagingStudy: [{ reference: `ImagingStudy/${id}-ct` }, { reference: `ImagingStudy/${id}-gone` }],
    });
    await seedDicomStudy({
      studyUid,
      nhsNumber,
      slices: o.slices,
      pacs: { port: t.pacs.httpPort, user: t.pacs.username, password: t.pacs.password },
    });
    return { nhsNumber, id, pdfSha256: sha256Of(pdf), studyUid, missingStudyUid };
  }

  command(patient: SeededPatient | null, over: Partial<RecordsTransferRequestedData> = {}) {
    const referralId = randomUUID();
    return createEnvelope<RecordsTransferRequestedData>({
      id: randomUUID(),
      type: RecordsTransferRequested.type,
      source: '/sonet/referral',
      subject: referralId,
      data: {
        referralId,
        transferId: randomUUID(),
        sourceOrganisation: 'RJ122',
        targetOrganisation: 'RTH01',
        documentKinds: ['clinic-letters', 'test-results', 'imaging'],
        lawfulBasis: { basis: 'explicit-consent', recordedAt: new Date().toISOString() },
        requestedAt: new Date().toISOString(),
        ...(patient ? { patient: { nhsNumber: patient.nhsNumber } } : {}),
        specialty: 'cardiology',
        referringPractice: 'A81001',
        ...over,
      },
    });
  }

  async send(envelope: ReturnType<HospitalTestBed['command']> | ReturnType<typeof createEnvelope>): Promise<void> {
    await this.publisher.publish([{ topic: this.topic, message: toWireMessage(envelope) }]);
  }

  async cancel(referralId: string, transferId: string, reason = 'referral withdrawn'): Promise<void> {
    await this.send(
      createEnvelope({
        id: randomUUID(),
        type: RecordsTransferCancelRequested.type,
        source: '/sonet/referral',
        subject: referralId,
        data: { referralId, transferId, reason },
      }),
    );
  }

  async transfer(transferId: string): Promise<TransferDetail | undefined> {
    const res = await fetch(`${this.url}/v1/transfers/${transferId}`, { headers: await this.tokens.bearer('ops', 'X26') });
    return res.status === 200 ? ((await res.json()) as TransferDetail) : undefined;
  }

  eventsOf(transferId: string): { type: string; data: Record<string, unknown> }[] {
    return this.events.records
      .map((r) => ({
        type: String(r.headers.ce_type ?? ''),
        data: JSON.parse(r.value?.toString('utf8') ?? '{}') as Record<string, unknown>,
      }))
      .filter((e) => e.data.transferId === transferId);
  }

  /** The SHA-256 of each instance of a study as a PACS holds it (WADO-RS, part bodies). */
  async studyAt(ods: string, studyUid: string): Promise<Map<string, string>> {
    const t = this.hospitals.trust(ods);
    const base = `http://127.0.0.1:${t.pacs.httpPort}/dicom-web`;
    const auth = basicAuth(t.pacs.username, t.pacs.password);
    const list = await fetch(`${base}/studies/${studyUid}/instances?includefield=0020000E`, {
      headers: { ...auth, accept: 'application/dicom+json' },
    });
    if (list.status === 204 || list.status === 404) return new Map();
    const rows = (await list.json()) as Record<string, { Value?: string[] }>[];
    const out = new Map<string, string>();
    for (const r of rows) {
      const sop = r['00080018']!.Value![0]!;
      const series = r['0020000E']!.Value![0]!;
      const res = await fetch(`${base}/studies/${studyUid}/series/${series}/instances/${sop}`, {
        headers: { ...auth, accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
      });
      const body = Buffer.from(await res.arrayBuffer());
      const boundary = /boundary=("?)([^";]+)\1/.exec(res.headers.get('content-type') ?? '')![2]!;
      const start = body.indexOf('\r\n\r\n') + 4;
      const end = body.lastIndexOf(`\r\n--${boundary}--`);
      out.set(sop, sha256Of(body.subarray(start, end)));
    }
    return out;
  }

  /** What the target EHR holds for the patient, by resource type. */
  async targetRecords(
    nhsNumber: string,
  ): Promise<
    Record<string, { id: string; identifier?: { system: string; value: string }[]; content?: { attachment: { url: string } }[] }[]>
  > {
    const t = this.hospitals.trust(TARGET);
    const auth = basicAuth(t.fhir.username, t.fhir.password);
    const out: Record<string, never[]> = {};
    for (const type of ['DocumentReference', 'DiagnosticReport', 'ImagingStudy', 'Observation', 'Patient']) {
      const q =
        type === 'Patient'
          ? `identifier=https://fhir.nhs.uk/Id/nhs-number%7C${nhsNumber}`
          : `patient.identifier=https://fhir.nhs.uk/Id/nhs-number%7C${nhsNumber}`;
      const res = await fetch(`${this.hospitals.fhirBase(TARGET)}/${type}?${q}&_count=100`, {
        headers: { ...auth, accept: 'application/fhir+json' },
      });
      const b = (await res.json()) as { entry?: { resource: never }[] };
      out[type] = (b.entry ?? []).map((e) => e.resource);
    }
    return out;
  }

  async targetBinarySha256(reference: string): Promise<string> {
    const t = this.hospitals.trust(TARGET);
    const res = await fetch(`${this.hospitals.fhirBase(TARGET)}/${reference}`, {
      headers: { ...basicAuth(t.fhir.username, t.fhir.password), accept: 'application/pdf' },
    });
    return sha256Of(Buffer.from(await res.arrayBuffer()));
  }
}

export interface SeededPatient {
  readonly nhsNumber: string;
  readonly id: string;
  readonly pdfSha256: string;
  readonly studyUid: string;
  readonly missingStudyUid: string;
}

export interface TransferDetail {
  transferId: string;
  referralId: string;
  status: string;
  reason: string | null;
  manifestVersion: number;
  items: {
    itemId: string;
    kind: string;
    sourceReference: string;
    targetReference: string | null;
    status: string;
    relevant: boolean;
    sha256: string | null;
    size: number | null;
    digestMismatches: number;
    attempts: number;
    instances?: { total: number; confirmed: number; mismatches: number };
  }[];
  gaps: { reference: string; referencedBy: string; kind: string }[];
}
