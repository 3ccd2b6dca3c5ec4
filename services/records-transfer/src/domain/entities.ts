import { defineEntity, p } from '@mikro-orm/core';
import { recordsGapKindSchema, transferItemKindSchema, type TransferItemKind } from '@sonet/contracts';

/**
 * A transfer's life: `awaiting-target` (no receiving team yet) → `ready` → `discovering` → `review` (the manifest
 * is built; the GP may change it) → `sending` → `completed` | `failed` (operations may retry: back to `sending`);
 * `refused` (no lawful basis, nothing read) and `cancelled` (the referral no longer needs it) end it.
 * `in-progress` is kept for rows written before records moved for real.
 */
export const TRANSFER_STATUSES = [
  'awaiting-target',
  'ready',
  'discovering',
  'review',
  'sending',
  'in-progress',
  'completed',
  'failed',
  'refused',
  'cancelled',
] as const;
export type TransferStatus = (typeof TRANSFER_STATUSES)[number];
export const FINISHED_STATUSES: readonly TransferStatus[] = ['completed', 'failed', 'refused', 'cancelled'];
/** While the transfer is in one of these, the GP may still change the manifest. */
export const MANIFEST_EDITABLE_STATUSES: readonly TransferStatus[] = ['awaiting-target', 'ready', 'discovering', 'review'];

/** A request to move a referral's results and imaging from the original organisation to the new team. */
export const TransferRequestSchema = defineEntity({
  name: 'TransferRequest',
  tableName: 'transfer_request',
  properties: {
    id: p.uuid().primary(),
    referralId: p.uuid().index(),
    sourceOrganisation: p.string().length(10),
    targetOrganisation: p.string().length(10).nullable(),
    documentKinds: p.array(),
    lawfulBasis: p.string().length(40).nullable(),
    consentRecordedAt: p.datetime().nullable(),
    status: p.enum(TRANSFER_STATUSES),
    requestedAt: p.datetime(),
    receivedAt: p.datetime(),
    /** The command's event id, for tracing a transfer back to what asked for it. */
    causationEventId: p.uuid(),
    /** The patient's NHS number: what the source is searched by. Never logged, never in an event. */
    nhsNumber: p.string().length(10).nullable(),
    specialty: p.string().length(100).nullable(),
    sourceTeamId: p.string().length(40).nullable(),
    targetTeamId: p.string().length(40).nullable(),
    /** The referring GP practice: its GPs may review the manifest. */
    referringPractice: p.string().length(10).nullable(),
    /** Why it failed, was refused or was cancelled (no patient data). */
    reason: p.text().nullable(),
    discoveredAt: p.datetime().nullable(),
    sendingAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
    /** Operations' retries after a failure. */
    retries: p.integer().default(0),
    /** Bumped by every change of the manifest by the GP (the API's ETag for it). */
    manifestVersion: p.integer().default(0),
  },
});
export class TransferRequest extends TransferRequestSchema.class {}
TransferRequestSchema.setClass(TransferRequest);

export const ITEM_KINDS = transferItemKindSchema.options;
export type ItemKind = TransferItemKind;
export const ITEM_STATUSES = ['pending', 'excluded', 'sending', 'sent', 'acknowledged', 'refused', 'missing'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

/** One line of a transfer's manifest: a document, a report with its results, or an imaging study (its instances below). */
export const TransferItemSchema = defineEntity({
  name: 'TransferItem',
  tableName: 'transfer_item',
  properties: {
    id: p.uuid().primary(),
    transferId: p.uuid().index(),
    /** Order of sending within the transfer. */
    position: p.integer(),
    kind: p.enum(ITEM_KINDS),
    /** `DocumentReference/12`, `DiagnosticReport/7`, `ImagingStudy/3`. */
    sourceReference: p.string().length(300),
    /** What a person reads in the manifest (e.g. "Cardiology clinic letter", "CT series, 300 images"). */
    title: p.string().length(300),
    mediaType: p.string().length(100),
    /** Bytes: the attachment's, or the sum of the study's instances once sent. */
    size: p.bigint('number').nullable(),
    /** SHA-256 (hex) of the bytes; for a study, over its instances' digests (see the README). */
    sha256: p.string().length(64).nullable(),
    /** When the record was made at the source (for the look-back window). */
    recordDate: p.datetime().nullable(),
    /** What the relevance rule said, and why. */
    relevant: p.boolean(),
    relevance: p.string().length(200),
    /** Set by the GP's review: include an item the rule left out, or exclude one it chose. */
    reviewedBy: p.string().length(200).nullable(),
    status: p.enum(ITEM_STATUSES),
    targetReference: p.string().length(300).nullable(),
    instanceCount: p.integer().nullable(),
    digestMismatches: p.integer().default(0),
    attempts: p.integer().default(0),
    reason: p.text().nullable(),
    /** Details the sender needs (FHIR ids of attachments and results, DICOM series endpoint); never patient identifiers. */
    detail: p.json<Record<string, unknown>>(),
    sentAt: p.datetime().nullable(),
    acknowledgedAt: p.datetime().nullable(),
  },
});
export class TransferItem extends TransferItemSchema.class {}
TransferItemSchema.setClass(TransferItem);

export const INSTANCE_STATUSES = ['pending', 'sent', 'acknowledged'] as const;

/** One DICOM instance of an imaging study: the unit a resumed transfer restarts from. */
export const TransferInstanceSchema = defineEntity({
  name: 'TransferInstance',
  tableName: 'transfer_instance',
  properties: {
    itemId: p.uuid().primary(),
    sopInstanceUid: p.string().length(64).primary(),
    seriesInstanceUid: p.string().length(64),
    position: p.integer(),
    size: p.bigint('number').nullable(),
    sha256: p.string().length(64).nullable(),
    status: p.enum(INSTANCE_STATUSES),
    digestMismatches: p.integer().default(0),
    sentAt: p.datetime().nullable(),
    acknowledgedAt: p.datetime().nullable(),
  },
});
export class TransferInstance extends TransferInstanceSchema.class {}
TransferInstanceSchema.setClass(TransferInstance);

/** A record referenced by what was sent but not found at the source. */
export const TransferGapSchema = defineEntity({
  name: 'TransferGap',
  tableName: 'transfer_gap',
  properties: {
    transferId: p.uuid().primary(),
    reference: p.string().length(300).primary(),
    referencedBy: p.string().length(300),
    kind: p.enum(recordsGapKindSchema.options),
    reason: p.string().length(300),
    detectedAt: p.datetime(),
  },
});
export class TransferGap extends TransferGapSchema.class {}
TransferGapSchema.setClass(TransferGap);

export const recordsTransferEntities = [TransferRequestSchema, TransferItemSchema, TransferInstanceSchema, TransferGapSchema];
