import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { LockMode, type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import {
  RecordsGapsDetected,
  RecordsItemAcknowledged,
  RecordsItemRefused,
  RecordsItemSent,
  RecordsTransferCancelled,
  RecordsTransferCompleted,
  RecordsTransferFailed,
  RecordsTransferRefused,
  RecordsTransferStarted,
  type EventDefinition,
} from '@sonet/contracts';
import { deriveId, emitEvent, type NewEvent } from '@sonet/messaging';
import { EVENT_SOURCE } from '../config';
import type { HospitalConnectors } from '../connectors/hospital-connectors';
import { TransferGap, TransferInstance, TransferItem, TransferRequest, type ItemStatus } from '../domain/entities';
import { buildManifest, gapsOfSentItems, KIND_ASKED_AS, type ManifestItemDraft } from '../domain/manifest';
import { admissionOf } from '../domain/admission';
import type { RecordsTransferActivities } from '../workflows/definitions';
import { discoverAtSource } from './discover';
import { sendDiagnosticReport, sendDocument, sendImagingStudy, type SendContext, type StreamFaults } from './send';

export interface RecordsTransferActivityDeps {
  readonly orm: MikroORM;
  readonly connectors: HospitalConnectors;
  /** Records older than this are not relevant (the relevance rule). */
  readonly lookBackDays: number;
  /** Tests only: damage bytes on their way to the target, to prove the read-back catches it. */
  readonly faults?: StreamFaults;
}

const iso = (d: Date) => d.toISOString();

/** Raised when an item id is not in the transfer's manifest: retrying cannot help. */
const notInManifest = (itemId: string) => ApplicationFailure.nonRetryable(`item ${itemId} is not in the manifest`, 'ItemNotInManifest');

const emit = <D extends EventDefinition>(em: EntityManager, def: D, e: Omit<NewEvent<D>, 'source'>) =>
  emitEvent(em, def, { ...e, source: EVENT_SOURCE });
/** An event about the whole transfer: its id derived from the transfer and the step, so a retried step emits it once. */
const emitForTransfer = <D extends EventDefinition>(
  em: EntityManager,
  def: D,
  t: TransferRequest,
  step: string,
  at: Date,
  data: Record<string, unknown>,
) =>
  emit(em, def, {
    id: deriveId(t.id, step),
    subject: t.referralId,
    time: at,
    data: { referralId: t.referralId, transferId: t.id, ...data } as NewEvent<D>['data'],
  });
const route = (t: TransferRequest) => ({ sourceOrganisation: t.sourceOrganisation, targetOrganisation: t.targetOrganisation! });

const load = async (em: EntityManager, transferId: string) => {
  const t = await em.findOne(TransferRequest, { id: transferId });
  // Retryable: the workflow is started inside the transaction that records the transfer, which may not have committed yet.
  if (!t) throw ApplicationFailure.retryable(`transfer ${transferId} is not recorded (yet)`, 'TransferNotFound');
  return t;
};

const heartbeat = (details?: unknown) => {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Outside an activity (unit tests): nothing to tell.
  }
};
const cancellation = (): AbortSignal | undefined => {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
};

/** Rule 4 first: no lawful basis recorded → refused (nothing read); says where the transfer stands. */
async function admit(
  deps: RecordsTransferActivityDeps,
  { transferId }: { transferId: string },
): ReturnType<RecordsTransferActivities['admit']> {
  const { orm, connectors } = deps;
  return orm.em.fork().transactional(async (em) => {
    const t = await load(em, transferId);
    const a = admissionOf(t);
    if (a.next === 'refused') {
      if (a.already) return { next: 'refused' as const };
      // Rule 4: without a recorded lawful basis nothing is read at the source, let alone sent.
      const at = new Date();
      t.status = 'refused';
      t.reason = a.reason;
      t.finishedAt = at;
      await emitForTransfer(em, RecordsTransferRefused, t, 'refused', at, { reason: a.reason, refusedAt: iso(at) });
      return { next: 'refused' as const };
    }
    if (a.next === 'cannot-run') throw ApplicationFailure.nonRetryable(a.reason, a.type);
    if (a.next === 'finished') return { next: 'finished' as const };
    connectors.for(t.sourceOrganisation);
    connectors.for(t.targetOrganisation!);
    if (a.next === 'send') return { next: 'send' as const };
    t.status = 'discovering';
    return { next: 'discover' as const };
  });
}

/** One manifest item, its DICOM instances (imaging) and, for an item the limits refuse, the report of it. */
async function recordItem(
  em: EntityManager,
  tr: TransferRequest,
  d: ManifestItemDraft,
  position: number,
  refusal: string | null,
  instances: readonly { seriesUid: string; sopInstanceUid: string }[],
): Promise<void> {
  const transferId = tr.id;
  const status: ItemStatus = !d.relevant ? 'excluded' : d.missing ? 'missing' : refusal ? 'refused' : 'pending';
  const item = em.create(TransferItem, {
    id: deriveId(transferId, 'item', d.sourceReference),
    transferId,
    position,
    kind: d.kind,
    sourceReference: d.sourceReference,
    title: d.title.slice(0, 300),
    mediaType: d.mediaType.slice(0, 100),
    size: d.size,
    sha256: d.sha256,
    recordDate: d.recordDate,
    relevant: d.relevant,
    relevance: d.relevance.slice(0, 200),
    reviewedBy: null,
    status,
    targetReference: null,
    instanceCount: d.kind === 'imaging-study' ? instances.length : null,
    digestMismatches: 0,
    attempts: 0,
    reason: status === 'missing' ? 'the file is not at the source' : refusal,
    detail: d.detail,
    sentAt: null,
    acknowledgedAt: null,
  });
  // Instances refer to their item: the item row goes first.
  await em.flush();
  instances.forEach((inst, n) =>
    em.create(TransferInstance, {
      itemId: item.id,
      sopInstanceUid: inst.sopInstanceUid,
      seriesInstanceUid: inst.seriesUid,
      position: n,
      size: null,
      sha256: null,
      status: 'pending',
      digestMismatches: 0,
      sentAt: null,
      acknowledgedAt: null,
    }),
  );
  if (status === 'refused') {
    await emit(em, RecordsItemRefused, {
      id: deriveId(item.id, 'refused'),
      subject: tr.referralId,
      data: { referralId: tr.referralId, transferId, itemId: item.id, kind: d.kind, sourceReference: d.sourceReference, reason: refusal! },
    });
  }
}

/** Finds the records at the source, builds the manifest (items, instances, gaps) and moves the transfer to review. */
async function discover(
  deps: RecordsTransferActivityDeps,
  { transferId }: { transferId: string },
): ReturnType<RecordsTransferActivities['discover']> {
  const { orm, connectors } = deps;
  const t = await load(orm.em.fork(), transferId);
  const source = connectors.for(t.sourceOrganisation);
  const found = await discoverAtSource(source, t.nhsNumber!, { signal: cancellation(), heartbeat });
  const { items, gaps } = buildManifest(found.records, {
    specialty: t.specialty ?? null,
    documentKinds: t.documentKinds,
    lookBackDays: deps.lookBackDays,
    now: new Date(),
  });
  const limits = source.config.limits;
  const targetLimits = connectors.for(t.targetOrganisation!).config.limits;
  return orm.em.fork().transactional(async (em) => {
    const tr = await load(em, transferId);
    if (tr.status !== 'discovering') return { items: 0, relevant: 0, gaps: 0 }; // an earlier attempt finished it
    const existing = new Set((await em.find(TransferItem, { transferId }, { fields: ['sourceReference'] })).map((i) => i.sourceReference));
    let position = 0;
    for (const d of items) {
      position++;
      if (existing.has(d.sourceReference)) continue;
      const maxBytes = Math.min(limits.maxItemBytes, targetLimits.maxItemBytes);
      const refusal = d.relevant ? refusalOf(d.mediaType, d.size, limits.mediaTypes, maxBytes) : null;
      await recordItem(em, tr, d, position, refusal, found.instances.get(d.sourceReference) ?? []);
    }
    const at = new Date();
    for (const g of gaps) {
      await em.upsert(TransferGap, {
        transferId,
        reference: g.reference.slice(0, 300),
        referencedBy: g.referencedBy.slice(0, 300),
        kind: g.kind,
        reason: g.reason,
        detectedAt: at,
      });
    }
    tr.status = 'review';
    tr.discoveredAt = at;
    return { items: items.length, relevant: items.filter((i) => i.relevant).length, gaps: gaps.length };
  });
}

/** Moves the transfer to sending (reporting it started, once) and returns the items still to send, in order. */
async function beginSending(
  deps: RecordsTransferActivityDeps,
  { transferId }: { transferId: string },
): ReturnType<RecordsTransferActivities['beginSending']> {
  const { orm } = deps;
  return orm.em.fork().transactional(async (em) => {
    const t = await load(em, transferId);
    const items = await em.find(TransferItem, { transferId }, { orderBy: { position: 'asc' } });
    if (t.status === 'review' || t.status === 'failed') {
      const at = new Date();
      if (t.status === 'review') {
        await emitForTransfer(em, RecordsTransferStarted, t, 'started', at, {
          ...route(t),
          items: items.filter((i) => i.status === 'pending').length,
          excluded: items.filter((i) => i.status === 'excluded').length,
          startedAt: iso(at),
        });
      }
      t.status = 'sending';
      t.sendingAt ??= at;
      t.reason = null;
    }
    return { itemIds: items.filter((i) => i.status === 'pending' || i.status === 'sending' || i.status === 'sent').map((i) => i.id) };
  });
}

/** Sends one item and confirms it at the target; reports it sent and acknowledged in one transaction. */
async function sendItem(
  deps: RecordsTransferActivityDeps,
  { transferId, itemId }: { transferId: string; itemId: string },
): ReturnType<RecordsTransferActivities['sendItem']> {
  const { orm, connectors } = deps;
  const em0 = orm.em.fork();
  const t = await load(em0, transferId);
  const item = await em0.findOne(TransferItem, { id: itemId, transferId });
  if (!item) throw notInManifest(itemId);
  if (item.status === 'acknowledged' || item.status === 'excluded' || item.status === 'refused' || item.status === 'missing')
    return { status: item.status };
  await orm.em.fork().nativeUpdate(TransferItem, { id: itemId }, { status: 'sending', attempts: item.attempts + 1 });
  heartbeat({ itemId, phase: 'start' });

  const ctx: SendContext = {
    orm,
    transfer: t,
    item,
    source: connectors.for(t.sourceOrganisation),
    target: connectors.for(t.targetOrganisation!),
    signal: cancellation(),
    heartbeat,
    ...(deps.faults ? { faults: deps.faults } : {}),
  };
  const result =
    item.kind === 'document'
      ? await sendDocument(ctx)
      : item.kind === 'imaging-study'
        ? await sendImagingStudy(ctx)
        : await sendDiagnosticReport(ctx);

  await orm.em.fork().transactional(async (em) => {
    const it = await em.findOneOrFail(TransferItem, { id: itemId });
    const at = new Date();
    it.status = 'acknowledged';
    it.targetReference = result.targetReference.slice(0, 300);
    it.sha256 = result.sha256;
    it.size = result.bytes;
    it.sentAt ??= at;
    it.acknowledgedAt = at;
    it.reason = null;
    const ref = { referralId: t.referralId, transferId, itemId, kind: it.kind, sourceReference: it.sourceReference };
    await emit(em, RecordsItemSent, {
      id: deriveId(itemId, 'sent'),
      subject: t.referralId,
      time: at,
      data: {
        ...ref,
        targetReference: it.targetReference,
        sha256: result.sha256,
        bytes: result.bytes,
        ...(result.instances != null ? { instances: result.instances } : {}),
        sentAt: iso(at),
      },
    });
    await emit(em, RecordsItemAcknowledged, {
      id: deriveId(itemId, 'acknowledged'),
      subject: t.referralId,
      time: at,
      data: { ...ref, sha256: result.sha256, digestMismatches: it.digestMismatches, acknowledgedAt: iso(at) },
    });
  });
  return { status: 'acknowledged' as const };
}

/** Reports the gaps of what was sent and the outcome: completed. */
async function complete(
  deps: RecordsTransferActivityDeps,
  { transferId }: { transferId: string },
): ReturnType<RecordsTransferActivities['complete']> {
  const { orm } = deps;
  await orm.em.fork().transactional(async (em) => {
    const t = await load(em, transferId);
    if (t.status === 'completed') return;
    const items = await em.find(TransferItem, { transferId }, { orderBy: { position: 'asc' } });
    const sent = items.filter((i) => i.status === 'acknowledged' || i.status === 'missing');
    const gaps = gapsOfSentItems(await em.find(TransferGap, { transferId }), new Set(sent.map((i) => i.sourceReference)));
    const at = new Date();
    if (gaps.length > 0) {
      await emitForTransfer(em, RecordsGapsDetected, t, 'gaps', at, {
        ...route(t),
        gaps: gaps.map((g) => ({ reference: g.reference, referencedBy: g.referencedBy, kind: g.kind, reason: g.reason })),
      });
    }
    await emitForTransfer(em, RecordsTransferCompleted, t, 'completed', at, {
      documents: items
        .filter((i) => i.status === 'acknowledged' && i.sha256)
        .map((i) => ({ documentId: i.id, kind: KIND_ASKED_AS[i.kind], sha256: i.sha256!, bytes: i.size ?? 0 })),
    });
    t.status = 'completed';
    t.finishedAt = at;
  });
}

/** Records the failure with its reason; operations can retry. */
async function fail(
  deps: RecordsTransferActivityDeps,
  { transferId, reason }: { transferId: string; reason: string },
): ReturnType<RecordsTransferActivities['fail']> {
  const { orm } = deps;
  await orm.em.fork().transactional(async (em) => {
    const t = await load(em, transferId);
    if (t.status !== 'sending' && t.status !== 'discovering' && t.status !== 'review' && t.status !== 'ready') return;
    const at = new Date();
    t.status = 'failed';
    t.reason = reason;
    t.finishedAt = at;
    await em.nativeUpdate(TransferItem, { transferId, status: 'sending' }, { status: 'pending', reason });
    await emitForTransfer(em, RecordsTransferFailed, t, `failed/${t.retries}`, at, { reason });
  });
}

/** Records the cancellation; what was confirmed stays recorded as sent. */
async function cancel(
  deps: RecordsTransferActivityDeps,
  { transferId }: { transferId: string },
): ReturnType<RecordsTransferActivities['cancel']> {
  const { orm } = deps;
  await orm.em.fork().transactional(async (em) => {
    // Locked: the cancel command's transaction may still hold the row (with the reason it gave).
    const t = await em.findOne(TransferRequest, { id: transferId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!t) return;
    if (t.status === 'cancelled' && t.finishedAt) return;
    if (t.status === 'completed' || t.status === 'refused') return;
    const at = new Date();
    // What was confirmed at the target stays recorded as sent; an item caught half-way goes back to pending.
    await em.nativeUpdate(TransferItem, { transferId, status: 'sending' }, { status: 'pending' });
    const items = await em.find(TransferItem, { transferId });
    const reason = t.reason ?? 'the referral no longer needs the records';
    t.status = 'cancelled';
    t.reason = reason;
    t.finishedAt = at;
    await emitForTransfer(em, RecordsTransferCancelled, t, 'cancelled', at, {
      reason,
      itemsSent: items.filter((i) => i.status === 'acknowledged').length,
      itemsNotSent: items.filter((i) => i.status === 'pending' || i.status === 'sending' || i.status === 'sent').length,
      cancelledAt: iso(at),
    });
  });
}

export function createRecordsTransferActivities(deps: RecordsTransferActivityDeps): RecordsTransferActivities {
  return {
    admit: (input) => admit(deps, input),
    discover: (input) => discover(deps, input),
    beginSending: (input) => beginSending(deps, input),
    sendItem: (input) => sendItem(deps, input),
    complete: (input) => complete(deps, input),
    fail: (input) => fail(deps, input),
    cancel: (input) => cancel(deps, input),
  };
}

/** Why an item may not be sent under the configured limits, or null when it may. */
export function refusalOf(mediaType: string, size: number | null, allowed: readonly string[], maxBytes: number): string | null {
  const type = mediaType.split(';')[0]!.trim().toLowerCase();
  if (!allowed.map((a) => a.toLowerCase()).includes(type)) return `media type ${type} is not on the allow-list`;
  if (size != null && size > maxBytes) return `${size} bytes is over the ${maxBytes}-byte limit`;
  return null;
}
