import { createHash } from 'node:crypto';
import { pipeline, Transform, type Readable } from 'node:stream';
import type { MikroORM } from '@mikro-orm/postgresql';
import canonicalize from 'canonicalize';
import type { TrustSystems } from '../connectors/hospital-connectors';
import { NHS_NUMBER_SYSTEM, SOURCE_ITEM_SYSTEM, type FhirResource, type TransactionEntry } from '../connectors/fhir';
import { boundaryOf, MultipartDigester } from '../connectors/multipart';
import { PermanentHttpError, TransientHttpError } from '../connectors/http';
import { studyDigest } from '../domain/digest';
import { TransferInstance, TransferItem, type TransferRequest } from '../domain/entities';
import type { AttachmentFound } from '../domain/manifest';

/** Tests only: damage the bytes of an item on their way to the target (after they were hashed). */
export interface StreamFaults {
  corrupt?(what: { kind: string; reference: string }): boolean;
}

export interface SendContext {
  readonly orm: MikroORM;
  readonly transfer: TransferRequest;
  readonly item: TransferItem;
  readonly source: TrustSystems;
  readonly target: TrustSystems;
  readonly signal?: AbortSignal | undefined;
  readonly heartbeat: (details?: unknown) => void;
  readonly faults?: StreamFaults;
}

export interface SendResult {
  readonly targetReference: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly instances?: number;
}

/** Times one item (or instance) is sent again within an attempt after its read-back did not match. */
const MISMATCH_RESENDS = 3;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A pass-through stream that feeds every chunk to `observe` (hashing, multipart parsing) on its way. */
const tap = (observe: (chunk: Buffer) => void) =>
  new Transform({
    transform(chunk: Buffer, _encoding, done) {
      observe(chunk);
      done(null, chunk);
    },
  });

/** Flips one byte past `offset` (the fault tests' corrupted byte). */
const corruptAfter = (offset: number) => {
  let seen = 0;
  let done = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, next) {
      if (!done && seen + chunk.length > offset) {
        const copy = Buffer.from(chunk);
        const at = Math.max(0, offset - seen);
        copy[at] = copy[at]! ^ 0xff;
        done = true;
        seen += chunk.length;
        next(null, copy);
        return;
      }
      seen += chunk.length;
      next(null, chunk);
    },
  });
};

/**
 * The source's bytes on their way to the target through `stages`: a failure anywhere (the source cut off mid-body)
 * fails the stream the target reads, so the upload fails too and is retried.
 */
function through(source: Readable, ...stages: Transform[]): Readable {
  return pipeline(source, ...(stages as [Transform, ...Transform[]]), () => undefined) as unknown as Readable;
}

const faultStages = (ctx: SendContext, offset: number): Transform[] =>
  ctx.faults?.corrupt?.({ kind: ctx.item.kind, reference: ctx.item.sourceReference }) ? [corruptAfter(offset)] : [];

const stableId = (ods: string, reference: string) => `sonet-${sha256(`${ods}/${reference}`).slice(0, 40)}`;
const sourceIdentifier = (ods: string, reference: string) => ({ system: SOURCE_ITEM_SYSTEM, value: `${ods}/${reference}` });
const ifNoneExistOf = (id: { system: string; value: string }) => `identifier=${encodeURIComponent(`${id.system}|${id.value}`)}`;
const withoutHistory = (location: string | undefined) =>
  (location ?? '').replace(/\/_history\/.*$/, '').replace(/^.*\/(?=[A-Za-z]+\/[^/]+$)/, '');

async function recordMismatch(ctx: SendContext, sop?: string): Promise<void> {
  const em = ctx.orm.em.fork();
  await em.execute('update transfer_item set digest_mismatches = digest_mismatches + 1 where id = ?', [ctx.item.id]);
  if (sop)
    await em.execute('update transfer_instance set digest_mismatches = digest_mismatches + 1 where item_id = ? and sop_instance_uid = ?', [
      ctx.item.id,
      sop,
    ]);
}

/** The patient at the target, matched by NHS number (created there the first time, from the source's record). */
async function patientEntry(ctx: SendContext): Promise<TransactionEntry> {
  const nhs = ctx.transfer.nhsNumber!;
  const src = await ctx.source.ehr.findPatient(nhs, ctx.signal);
  const resource: FhirResource = {
    resourceType: 'Patient',
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhs }],
    ...(src?.name ? { name: src.name } : {}),
    ...(src?.birthDate ? { birthDate: src.birthDate } : {}),
    ...(src?.gender ? { gender: src.gender } : {}),
  };
  return {
    fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001',
    resource,
    ifNoneExist: `identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${nhs}`)}`,
  };
}

/**
 * A copy of a source resource fit to file at the target: no server-assigned parts (id, meta, narrative), an
 * identifier naming where it came from, and references rewritten: to what was sent with it (by `map`), else to
 * a display naming the source (the target cannot resolve the source's ids).
 */
export function localise(resource: FhirResource, sourceOds: string, map: ReadonlyMap<string, string>): FhirResource {
  const { id: _id, meta: _meta, text: _text, ...rest } = resource;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== 'object' || v === null) return v;
    const o = v as Record<string, unknown>;
    if (typeof o.reference === 'string' && !o.reference.startsWith('urn:')) {
      const mapped = map.get(o.reference);
      if (mapped) return { ...o, reference: mapped };
      const { reference, ...others } = o;
      return { ...others, display: typeof o.display === 'string' ? o.display : `${sourceOds} ${reference}` };
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
  };
  const identifier = [
    ...((rest.identifier as unknown[] | undefined) ?? []),
    sourceIdentifier(sourceOds, `${resource.resourceType}/${resource.id}`),
  ];
  return { ...(walk(rest) as FhirResource), identifier } as FhirResource;
}

/** The document's attachments pointing at the files as the target now holds them (an unsent file keeps no URL). */
export function withAttachmentsAt(doc: FhirResource, files: ReadonlyMap<string, string>): FhirResource {
  const content = ((doc.content as { attachment?: Record<string, unknown> }[] | undefined) ?? []).map((c) => {
    const a = c.attachment ?? {};
    const url = typeof a.url === 'string' ? files.get(a.url) : undefined;
    const { url: _old, ...rest } = a;
    return { ...c, attachment: url ? { ...rest, url } : rest };
  });
  return { ...doc, content };
}

/** Sends a letter or other document: each file streamed source → target (`Binary`, by PUT), read back, then its DocumentReference. */
export async function sendDocument(ctx: SendContext): Promise<SendResult> {
  const ods = ctx.source.config.ods;
  const attachments = ((ctx.item.detail.attachments as AttachmentFound[] | undefined) ?? []).filter((a) => a.sha256);
  const map = new Map<string, string>();
  for (const a of attachments) {
    const id = stableId(ods, a.url);
    await sendBinary(ctx, a, id);
    map.set(a.url, `Binary/${id}`);
    ctx.heartbeat({ itemId: ctx.item.id, binary: id });
  }
  const doc = await ctx.source.ehr.read(ctx.item.sourceReference, ctx.signal);
  if (!doc) throw new PermanentHttpError(`${ctx.item.sourceReference.split('/')[0]} is no longer at the source`, 404);
  const patient = await patientEntry(ctx);
  map.set(String((doc.subject as { reference?: string } | undefined)?.reference ?? ''), patient.fullUrl);
  const copy = withAttachmentsAt(localise(doc, ods, map), map);
  const identifier = sourceIdentifier(ods, ctx.item.sourceReference);
  const answer = await ctx.target.ehr.transaction(
    [patient, { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000002', resource: copy, ifNoneExist: ifNoneExistOf(identifier) }],
    ctx.signal,
  );
  const targetReference = withoutHistory(answer[1]?.location);
  await confirmFiled(ctx, targetReference);
  const bytes = attachments.reduce((s, a) => s + (a.size ?? 0), 0);
  const digest = attachments.length === 1 ? attachments[0]!.sha256! : sha256(attachments.map((a) => a.sha256).join('\n'));
  return { targetReference, sha256: digest, bytes };
}

/** One file: streamed from the source, hashed on the way, stored at the target, read back and compared. */
async function sendBinary(ctx: SendContext, a: AttachmentFound, id: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const res = await ctx.source.ehr.openBinary(a.url, a.contentType, ctx.signal);
    if (!res) throw new PermanentHttpError("a document's file is no longer at the source", 404);
    const h = createHash('sha256');
    await ctx.target.ehr.putBinary(
      id,
      a.contentType,
      through(
        res.body,
        tap((c) => h.update(c)),
        ...faultStages(ctx, Math.floor((a.size ?? 0) / 2)),
      ),
      ctx.signal,
    );
    const sent = h.digest('hex');
    if (sent !== a.sha256) throw new TransientHttpError("the file read at the source differs from the manifest's digest");
    const back = await ctx.target.ehr.openBinary(`Binary/${id}`, a.contentType, ctx.signal);
    if (!back) throw new TransientHttpError('the file is not readable at the target after it was stored');
    const hb = createHash('sha256');
    for await (const chunk of back.body) hb.update(chunk);
    if (hb.digest('hex') === a.sha256) return;
    await recordMismatch(ctx);
    if (attempt + 1 >= MISMATCH_RESENDS) throw new TransientHttpError('the file read back from the target did not match its digest');
  }
}

/** The target holds what we filed (read back by its reference). */
async function confirmFiled(ctx: SendContext, reference: string): Promise<FhirResource> {
  if (!/^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(reference))
    throw new TransientHttpError('the target did not say where it filed the resource');
  const back = await ctx.target.ehr.read(reference, ctx.signal);
  if (!back) throw new TransientHttpError('the filed resource is not readable at the target');
  return back;
}

/** Sends a report with its results (Observations) in one transaction; its imaging points at the study sent before it. */
export async function sendDiagnosticReport(ctx: SendContext): Promise<SendResult> {
  const ods = ctx.source.config.ods;
  const report = await ctx.source.ehr.read(ctx.item.sourceReference, ctx.signal);
  if (!report) throw new PermanentHttpError('the report is no longer at the source', 404);
  const patient = await patientEntry(ctx);
  const map = new Map<string, string>([[String((report.subject as { reference?: string } | undefined)?.reference ?? ''), patient.fullUrl]]);
  const entries: TransactionEntry[] = [patient];
  let n = 10;
  for (const ref of (ctx.item.detail.results as string[] | undefined) ?? []) {
    const obs = await ctx.source.ehr.read(ref, ctx.signal);
    if (!obs) continue;
    const fullUrl = `urn:uuid:00000000-0000-4000-8000-${String(n++).padStart(12, '0')}`;
    map.set(ref, fullUrl);
    entries.push({ fullUrl, resource: obs, ifNoneExist: ifNoneExistOf(sourceIdentifier(ods, ref)) });
  }
  // Imaging the report is about, where this transfer sent it: referred to by the identifier it was filed under.
  const sentStudies = await ctx.orm.em
    .fork()
    .find(TransferItem, { transferId: ctx.transfer.id, kind: 'imaging-study', status: 'acknowledged' });
  for (const s of sentStudies) if (s.targetReference) map.set(s.sourceReference, s.targetReference);
  // Results are about the same patient as the report, however the source wrote their subject.
  const localised = entries.map((e, i) =>
    i === 0 ? e : { ...e, resource: { ...localise(e.resource, ods, map), subject: { reference: patient.fullUrl } } },
  );
  const copy = localise(report, ods, map);
  const answer = await ctx.target.ehr.transaction(
    [
      ...localised,
      {
        fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000002',
        resource: copy,
        ifNoneExist: ifNoneExistOf(sourceIdentifier(ods, ctx.item.sourceReference)),
      },
    ],
    ctx.signal,
  );
  const targetReference = withoutHistory(answer[answer.length - 1]?.location);
  await confirmFiled(ctx, targetReference);
  const sent = canonicalize(copy) ?? '';
  return { targetReference, sha256: sha256(sent), bytes: Buffer.byteLength(sent) };
}

/**
 * Sends an imaging study instance by instance: WADO-RS from the source piped straight into STOW-RS at the target
 * (never held whole: only the multipart framing is parsed, to hash each file on its way), then each instance read
 * back from the target and compared. Progress is kept per instance, so a new attempt (after a crash) starts at the
 * first instance not yet confirmed. Then the study's ImagingStudy is filed in the target EHR.
 */
export async function sendImagingStudy(ctx: SendContext): Promise<SendResult> {
  const studyUid = String(ctx.item.detail.studyUid ?? '');
  if (!/^[0-9.]{1,64}$/.test(studyUid)) throw new PermanentHttpError('the manifest item names no valid StudyInstanceUID');
  const em = ctx.orm.em.fork();
  const all = await em.find(TransferInstance, { itemId: ctx.item.id }, { orderBy: { position: 'asc' } });
  const todo = all.filter((i) => i.status !== 'acknowledged');
  const concurrency = Math.min(ctx.source.config.limits.imagingConcurrency, ctx.target.config.limits.imagingConcurrency);
  let done = all.length - todo.length;
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const inst = todo[next++]!;
      await sendInstance(ctx, studyUid, inst);
      done++;
      ctx.heartbeat({ itemId: ctx.item.id, instancesConfirmed: done, of: all.length });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, todo.length)) }, worker));

  const final = await ctx.orm.em.fork().find(TransferInstance, { itemId: ctx.item.id });
  if (final.some((i) => i.status !== 'acknowledged' || !i.sha256))
    throw new TransientHttpError('not every instance was confirmed at the target');
  const targetReference = await fileImagingStudy(ctx, studyUid, final.length);
  return {
    targetReference,
    sha256: studyDigest(final.map((i) => ({ sopInstanceUid: i.sopInstanceUid, sha256: i.sha256! }))),
    bytes: final.reduce((s, i) => s + (i.size ?? 0), 0),
    instances: final.length,
  };
}

async function sendInstance(ctx: SendContext, studyUid: string, inst: TransferInstance): Promise<void> {
  // Plain statements on the pool: thousands of instances a study, and no entity needs loading for them.
  const db = ctx.orm.em.getConnection();
  const mark = (set: string, params: unknown[]) =>
    db.execute(
      `update transfer_instance set ${set} where item_id = ? and sop_instance_uid = ?`,
      [...params, inst.itemId, inst.sopInstanceUid],
      'run',
    );
  let expected = inst.status === 'sent' ? inst.sha256 : null;
  for (let attempt = 0; ; attempt++) {
    if (!expected) {
      const res = await ctx.source.pacs.retrieveInstance(studyUid, inst.seriesInstanceUid, inst.sopInstanceUid, ctx.signal);
      if (!res) throw new PermanentHttpError('an image listed in the manifest is no longer in the source PACS', 404);
      const contentType = res.header('content-type') ?? '';
      const boundary = boundaryOf(contentType);
      if (!boundary) {
        await res.body.dump();
        throw new PermanentHttpError('WADO-RS answered without a multipart body');
      }
      const digester = new MultipartDigester(boundary);
      const length = Number(res.header('content-length') ?? 0);
      const body = through(
        res.body,
        tap((c) => digester.update(c)),
        ...faultStages(ctx, Math.floor(length / 2) || 4096),
      );
      const { stored } = await ctx.target.pacs.store(contentType, body, ctx.signal);
      const parts = digester.finish();
      // A PACS may answer 200 having stored nothing (e.g. framing it could not read): count what it says it stored.
      if (stored !== 1) throw new TransientHttpError(`STOW-RS stored ${stored} instances of 1`);
      if (parts.length !== 1) throw new PermanentHttpError(`WADO-RS answered ${parts.length} parts for one instance`);
      expected = parts[0]!.sha256;
      await mark(`status = 'sent', sha256 = ?, size = ?, sent_at = now()`, [expected, parts[0]!.bytes]);
    }
    const back = await ctx.target.pacs.retrieveInstance(studyUid, inst.seriesInstanceUid, inst.sopInstanceUid, ctx.signal);
    let got: string | undefined;
    if (back) {
      const boundary = boundaryOf(back.header('content-type'));
      if (!boundary) {
        await back.body.dump();
        throw new TransientHttpError('the target answered a read-back without a multipart body');
      }
      const d = new MultipartDigester(boundary);
      for await (const chunk of back.body) d.update(chunk);
      got = d.finish()[0]?.sha256;
    }
    if (got === expected) {
      await mark(`status = 'acknowledged', acknowledged_at = now()`, []);
      return;
    }
    // Not there (a crash came between our record and the PACS's commit): send it again. There but different: a
    // damaged copy, counted and reported, then replaced.
    if (back) await recordMismatch(ctx, inst.sopInstanceUid);
    await mark(`status = 'pending', sha256 = null`, []);
    expected = null;
    if (attempt + 1 >= MISMATCH_RESENDS) throw new TransientHttpError('an instance read back from the target did not match its digest');
  }
}

/** Files the study's ImagingStudy in the target EHR (a copy of the source's, or a minimal one for a PACS-only study). */
async function fileImagingStudy(ctx: SendContext, studyUid: string, instances: number): Promise<string> {
  const ods = ctx.source.config.ods;
  const patient = await patientEntry(ctx);
  const src = ctx.item.sourceReference.startsWith('ImagingStudy/') ? await ctx.source.ehr.read(ctx.item.sourceReference, ctx.signal) : null;
  const base: FhirResource = src
    ? (() => {
        const { endpoint: _e, ...rest } = src;
        return rest as FhirResource;
      })()
    : {
        resourceType: 'ImagingStudy',
        id: `pacs-${studyUid}`,
        status: 'available',
        identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${studyUid}` }],
        numberOfInstances: instances,
      };
  const map = new Map<string, string>([[String((base.subject as { reference?: string } | undefined)?.reference ?? ''), patient.fullUrl]]);
  const copy = { ...localise(base, ods, map), subject: { reference: patient.fullUrl } };
  const answer = await ctx.target.ehr.transaction(
    [
      patient,
      {
        fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000002',
        resource: copy,
        ifNoneExist: ifNoneExistOf(sourceIdentifier(ods, ctx.item.sourceReference)),
      },
    ],
    ctx.signal,
  );
  const reference = withoutHistory(answer[1]?.location);
  await confirmFiled(ctx, reference);
  return reference;
}
