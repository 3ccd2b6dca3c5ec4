import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  RecordsTransferRequested,
  RecordsTransferRequestedV2,
  SEALED_PATIENT_FIELD,
  transferPatientSchema,
  type EventMap,
} from '@sonet/contracts';
import { SealedFieldOpener, type InboxRpcContext } from '@sonet/messaging';
import { RecordTransferRequestHandler } from './record-transfer-request.handler';

@Controller()
export class RecordTransferRequestConsumer {
  private readonly logger = new Logger(RecordTransferRequestConsumer.name);

  constructor(
    private readonly handler: RecordTransferRequestHandler,
    private readonly opener: SealedFieldOpener,
  ) {}

  /** Commands from before sealing (ADR 14), still in the topic or replayed: the NHS number travels in clear. */
  @EventPattern<string>(RecordsTransferRequested.type)
  async onTransferRequested(@Payload() event: EventMap['records.transfer-requested.v1'], @Ctx() ctx: InboxRpcContext): Promise<void> {
    await this.handler.execute(ctx.inbox.em, event);
  }

  /**
   * The NHS number is sealed under the referral's key: opened with it, then handled as before. A destroyed key (the
   * referral was erased; erasure waits until it is closed, so this is a replay) is skipped with its reason: nothing
   * is searched for. A key that cannot be fetched now is retried by the inbox.
   */
  @EventPattern<string>(RecordsTransferRequestedV2.type)
  async onTransferRequestedV2(@Payload() event: EventMap['records.transfer-requested.v2'], @Ctx() ctx: InboxRpcContext): Promise<void> {
    const { referralId, transferId } = event.data;
    const context = { referralId, eventType: event.type, field: SEALED_PATIENT_FIELD };
    const patient = await this.opener.open(context, event.data.patient, transferPatientSchema);
    if (!patient.ok) {
      this.logger.warn(
        { eventId: event.id, referralId, transferId, reason: patient.reason },
        'patient details erased: transfer not recorded',
      );
      return;
    }
    await this.handler.execute(ctx.inbox.em, { ...event, data: { ...event.data, patient: patient.value } });
  }
}
