import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Principal } from '@sonet/auth';
import { dlqTopicOf, Topics } from '@sonet/contracts';
import { DeadLetters, recordAccess, type DeadLetterView } from '@sonet/messaging';
import { notFoundProblem } from '@sonet/service-kit';

/** Any topic of the network: its dead letters are on `<topic>.dlq`. */
export const topicSchema = z.enum(Object.values(Topics) as [string, ...string[]]);
export const deadLettersQuerySchema = z.object({ topic: topicSchema }).strict();
export const bulkReplaySchema = z.object({ topic: topicSchema, reason: z.string().min(1).max(100) }).strict();
export const deadLetterIdSchema = z
  .string()
  .regex(/^[a-z0-9._-]+\.dlq:\d{1,5}:\d{1,19}$/, 'a dead-letter id: <topic>.dlq:<partition>:<offset>');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Dead letters of every topic, for operations (ADR 0015): listed from `<topic>.dlq`, replayed to the topic. Each
 * listing and replay is recorded as access to the referrals it names (the Kafka key), like every other read.
 */
@Injectable()
export class DeadLettersHandler {
  constructor(
    private readonly em: EntityManager,
    private readonly deadLetters: DeadLetters,
  ) {}

  async list(topic: string, principal: Principal): Promise<{ topic: string; items: DeadLetterView[] }> {
    const items = await this.deadLetters.list(dlqTopicOf(topic));
    await this.audit(items, principal, 'dead-letters', 'search');
    return { topic: dlqTopicOf(topic), items };
  }

  async replay(id: string, principal: Principal): Promise<DeadLetterView> {
    const replayed = await this.deadLetters.replay(id);
    if (!replayed) throw notFoundProblem('No dead letter lies at that id.');
    await this.audit([replayed], principal, 'dead-letter-replay', 'read');
    return replayed;
  }

  async replayAll(topic: string, reason: string, principal: Principal): Promise<{ replayed: DeadLetterView[] }> {
    const replayed = await this.deadLetters.replayAll(dlqTopicOf(topic), reason);
    await this.audit(replayed, principal, 'dead-letter-replay', 'read');
    return { replayed };
  }

  private async audit(items: readonly DeadLetterView[], principal: Principal, kind: string, action: 'read' | 'search'): Promise<void> {
    const referralIds = items.map((i) => i.key ?? '').filter((k) => UUID.test(k));
    await recordAccess(this.em.fork(), principal, { referralId: referralIds, resource: { service: 'referral', kind, action } });
  }
}
