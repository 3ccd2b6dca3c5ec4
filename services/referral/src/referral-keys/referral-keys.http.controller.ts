import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { ReferralDataKeyDestroyed, referralIdSchema } from '@sonet/contracts';
import { CurrentPrincipal, Roles, type Principal } from '@sonet/auth';
import { emitEvent, recordAccess, referralKeyAnswerSchema, REFERRAL_KEYS_PATH } from '@sonet/messaging';
import {
  ApiAnswer,
  ApiJsonBody,
  ApiProblems,
  conflictProblem,
  forbiddenProblem,
  goneProblem,
  notFoundProblem,
  parseOrProblem,
} from '@sonet/service-kit';
import { EVENT_SOURCE, type ReferralConfig } from '../config';
import { Referral } from '../domain/entities';
import { REFERRAL_CONFIG } from '../infrastructure/tokens';
import { ReferralKeyStore } from './referral-key-store';

export const destroyKeySchema = z
  .object({
    basis: ReferralDataKeyDestroyed.schema.shape.basis,
    reference: z
      .string()
      .regex(/^[\w./-]{1,100}$/)
      .optional()
      .describe("the operator's ticket or case reference (letters, digits, . _ / -; no personal data)"),
  })
  .strict();

const destroyedSchema = z.object({ referralId: z.uuid(), kid: z.string(), destroyedAt: z.iso.datetime() });

/**
 * The referrals' data keys (ADR 14), for the network's own services: the services entitled to a referral's patient
 * details read its key (every read is recorded as an access event), and operations destroy it for erasure.
 */
@ApiTags('internal')
@ApiBearerAuth()
@Controller(REFERRAL_KEYS_PATH.replace(/^\//, ''))
export class ReferralKeysController {
  private readonly readers: ReadonlySet<string>;

  constructor(
    private readonly em: EntityManager,
    private readonly keys: ReferralKeyStore,
    @Inject(REFERRAL_CONFIG) config: ReferralConfig,
  ) {
    this.readers = new Set(config.REFERRAL_KEY_READERS);
  }

  @Get(':referralId')
  @Roles('system')
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary: "A referral's data key, for the services entitled to its patient details (service token, role system)",
    description: 'Opens the sealed patient details of its events. Each read is recorded (access.recorded.v1). 410 once destroyed.',
  })
  @ApiAnswer(200, referralKeyAnswerSchema, 'The key (32 bytes, base64url) and its id.')
  @ApiProblems(400, 401, [403, 'Not a service entitled to patient details.'], [404, 'No such referral, or no key.'], 410)
  async read(@Param('referralId') id: string, @CurrentPrincipal() caller: Principal): Promise<z.infer<typeof referralKeyAnswerSchema>> {
    if (!this.readers.has(caller.subject)) throw forbiddenProblem('This service is not entitled to patient details.');
    const referralId = parseOrProblem(referralIdSchema, id, 'referral id');
    return this.em.fork().transactional(async (em) => {
      const key = await this.keys.keyFor(em, referralId);
      if (key === undefined) throw notFoundProblem('No data key for this referral.');
      if (key === 'destroyed') throw goneProblem("The referral's data key was destroyed (erasure).");
      await recordAccess(em, caller, { referralId, resource: { service: 'referral', kind: 'data-key', action: 'read' } });
      return { referralId, kid: key.kid, alg: 'A256GCM' as const, key: key.key.toString('base64url') };
    });
  }

  @Post(':referralId/destroy')
  @Roles('ops')
  @HttpCode(200)
  @ApiOperation({
    summary: "Operations: destroy a closed referral's data key (erasure; see the runbook)",
    description:
      'Every sealed copy of its patient details (Kafka, dead letters, the audit log) becomes unreadable for good. ' +
      'Refused while the referral is open. Emits referral.data-key-destroyed.v1.',
  })
  @ApiJsonBody(destroyKeySchema)
  @ApiAnswer(200, destroyedSchema, 'The key is destroyed.')
  @ApiProblems(400, 401, 403, 404, [409, 'The referral is still open, or it has no key.'], [410, 'Already destroyed.'], 413, 415, 422)
  async destroy(@Param('referralId') id: string, @Body() body: unknown, @CurrentPrincipal() ops: Principal) {
    const referralId = parseOrProblem(referralIdSchema, id, 'referral id');
    const { basis, reference } = parseOrProblem(destroyKeySchema, body);
    return this.em.fork().transactional(async (em) => {
      const referral = await em.findOne(Referral, { id: referralId }, { fields: ['id', 'closedAt', 'state'] });
      if (!referral) throw notFoundProblem('No such referral.');
      if (!referral.closedAt)
        throw conflictProblem('The referral is still open: its process needs the key.', { currentState: referral.state });
      const done = await this.keys.destroy(em, referralId, basis, reference);
      if (done === 'no-key') throw conflictProblem('This referral has no data key: its events predate sealing (ADR 14).');
      if (done === 'already-destroyed') throw goneProblem("The referral's data key was already destroyed.");
      const destroyedAt = new Date();
      await emitEvent(em, ReferralDataKeyDestroyed, {
        id: randomUUID(),
        source: EVENT_SOURCE,
        subject: referralId,
        time: destroyedAt,
        data: {
          referralId,
          kid: done.kid,
          destroyedAt: destroyedAt.toISOString(),
          destroyedBy: { subject: ops.subject, organisation: ops.organisation },
          basis,
          ...(reference ? { reference } : {}),
        },
      });
      return { referralId, kid: done.kid, destroyedAt: destroyedAt.toISOString() };
    });
  }
}
