import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { patientDetailsSchema, ReferralRequested, ReferralRequestedV2, SEALED_PATIENT_FIELD, type EventMap } from '@sonet/contracts';
import { SealedFieldOpener, type InboxRpcContext } from '@sonet/messaging';
import { AcknowledgeReferralRequestHandler } from './acknowledge-referral-request.handler';

@Controller()
export class AcknowledgeReferralRequestConsumer {
  private readonly logger = new Logger(AcknowledgeReferralRequestConsumer.name);

  constructor(
    private readonly handler: AcknowledgeReferralRequestHandler,
    private readonly opener: SealedFieldOpener,
  ) {}

  /** Events from before sealing (ADR 14), still in the topic or replayed: the patient travels in clear. */
  @EventPattern<string>(ReferralRequested.type)
  async onReferralRequested(@Payload() event: EventMap['referral.requested.v1'], @Ctx() ctx: InboxRpcContext): Promise<void> {
    await this.handler.execute(ctx.inbox.em, event, ctx.inbox.beforeCommit);
  }

  /**
   * The patient is sealed under the referral's key: opened with it, then handled as before. A destroyed key (the
   * referral was erased) is skipped deliberately, with its reason, and never retried: nobody is to be contacted.
   * A key that cannot be fetched now is retried by the inbox (and dead-lettered for a replay if it lasts).
   */
  @EventPattern<string>(ReferralRequestedV2.type)
  async onReferralRequestedV2(@Payload() event: EventMap['referral.requested.v2'], @Ctx() ctx: InboxRpcContext): Promise<void> {
    const { referralId } = event.data;
    const context = { referralId, eventType: event.type, field: SEALED_PATIENT_FIELD };
    const patient = await this.opener.open(context, event.data.patient, patientDetailsSchema);
    if (!patient.ok) {
      this.logger.warn({ eventId: event.id, referralId, reason: patient.reason }, 'patient details erased: nobody is told');
      return;
    }
    await this.handler.execute(ctx.inbox.em, { ...event, data: { ...event.data, patient: patient.value } }, ctx.inbox.beforeCommit);
  }
}
