import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AccessRecorded, type AccessPurpose, type ActorRole, type EventEnvelope } from '@sonet/contracts';
import { buildEvent, appendManyToOutbox } from '../outbox/outbox';

/** Who read: the verified caller (a `Principal` from @sonet/auth fits). */
export interface AccessingPrincipal {
  readonly subject: string;
  readonly role: ActorRole;
  readonly organisation: string;
}

export interface AccessRecord {
  /** The referral(s) whose patient data the response discloses; one event each (duplicates are dropped). */
  readonly referralId: string | readonly string[];
  /** Why; defaults to the usual purpose of the caller's role (see purposeOfRole). */
  readonly purpose?: AccessPurpose;
  readonly resource: {
    /** The service answering, e.g. 'referral'; the event's source is `/sonet/<service>`. */
    readonly service: string;
    /** What is read, e.g. 'referral', 'transfer-manifest', 'notification-list', 'audit-timeline'. */
    readonly kind: string;
    readonly action?: 'read' | 'search' | 'export';
  };
}

/** The purpose of use a role reads for, unless the endpoint knows better. */
const PURPOSE_OF_ROLE: Readonly<Record<ActorRole, AccessPurpose>> = {
  gp: 'direct-care',
  clinician: 'direct-care',
  patient: 'patient-request',
  ops: 'operations',
  auditor: 'audit',
  pals: 'complaint',
  // The network's own services (service tokens), e.g. reading a referral's data key to open its events.
  system: 'operations',
};
export const purposeOfRole = (role: ActorRole): AccessPurpose => PURPOSE_OF_ROLE[role];

/**
 * Records that `principal` read patient data of a referral: an `access.recorded.v1` event per referral, through the
 * transactional outbox of the same EntityManager (so the same transaction, when there is one). Call it before the
 * response is sent: if it fails the request fails, and no data leaves without a record of who saw it.
 * No patient identifier goes into the event: the audit service finds the patient from the referral id.
 */
export async function recordAccess(em: EntityManager, principal: AccessingPrincipal, access: AccessRecord): Promise<EventEnvelope[]> {
  const ids = [...new Set(typeof access.referralId === 'string' ? [access.referralId] : access.referralId)];
  if (ids.length === 0) return [];
  const accessedAt = new Date();
  const envelopes = ids.map((referralId) => {
    const accessId = randomUUID();
    return buildEvent(AccessRecorded, {
      id: accessId,
      source: `/sonet/${access.resource.service}`,
      subject: referralId,
      time: accessedAt,
      data: {
        accessId,
        referralId,
        actor: { subject: principal.subject, role: principal.role, organisation: principal.organisation },
        purpose: access.purpose ?? purposeOfRole(principal.role),
        resource: { service: access.resource.service, kind: access.resource.kind, action: access.resource.action ?? 'read' },
        accessedAt: accessedAt.toISOString(),
      },
    });
  });
  await appendManyToOutbox(em, AccessRecorded.topic, envelopes);
  return envelopes;
}
