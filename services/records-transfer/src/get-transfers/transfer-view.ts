import type { TransferGap, TransferItem, TransferRequest } from '../domain/entities';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** Nullable columns are null in the answer, never absent (the documented schema requires every field). */
/** A transfer as the API shows it (no patient identifier: the referral id says whose it is). */
export const transferSummary = (t: TransferRequest) => ({
  transferId: t.id,
  referralId: t.referralId,
  sourceOrganisation: t.sourceOrganisation,
  targetOrganisation: t.targetOrganisation ?? null,
  documentKinds: t.documentKinds,
  lawfulBasis: t.lawfulBasis ?? null,
  status: t.status,
  reason: t.reason ?? null,
  retries: t.retries,
  requestedAt: t.requestedAt.toISOString(),
  receivedAt: t.receivedAt.toISOString(),
  discoveredAt: iso(t.discoveredAt),
  sendingAt: iso(t.sendingAt),
  finishedAt: iso(t.finishedAt),
});

export const itemView = (i: TransferItem, instances?: { total: number; confirmed: number; mismatches: number }) => ({
  itemId: i.id,
  position: i.position,
  kind: i.kind,
  title: i.title,
  sourceReference: i.sourceReference,
  targetReference: i.targetReference ?? null,
  mediaType: i.mediaType,
  size: i.size ?? null,
  sha256: i.sha256 ?? null,
  recordDate: iso(i.recordDate),
  relevant: i.relevant,
  relevance: i.relevance,
  reviewedBy: i.reviewedBy ?? null,
  status: i.status,
  reason: i.reason ?? null,
  attempts: i.attempts,
  digestMismatches: i.digestMismatches,
  sentAt: iso(i.sentAt),
  acknowledgedAt: iso(i.acknowledgedAt),
  ...(instances ? { instances } : {}),
});

export const gapView = (g: TransferGap) => ({
  reference: g.reference,
  referencedBy: g.referencedBy,
  kind: g.kind,
  reason: g.reason,
  detectedAt: g.detectedAt.toISOString(),
});
