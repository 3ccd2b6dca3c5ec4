import { z } from 'zod';

/** Notify's final statuses (letters: `received` = printed and posted; `validation-failed` = refused before printing). */
export const RECEIPT_STATUSES = [
  'delivered',
  'received',
  'permanent-failure',
  'temporary-failure',
  'technical-failure',
  'validation-failed',
  'cancelled',
] as const;

/**
 * A GOV.UK Notify delivery receipt, as Notify POSTs it to the callback URL. Unknown fields are allowed (Notify may
 * add some); the ones we read are checked.
 */
export const deliveryReceiptSchema = z.object({
  id: z.uuid().describe("Notify's notification id"),
  reference: z.string().max(1000).nullable().optional().describe('our notification id'),
  to: z.string().max(1000).optional(),
  status: z.enum(RECEIPT_STATUSES),
  created_at: z.string().optional(),
  completed_at: z.string().nullable().optional(),
  sent_at: z.string().nullable().optional(),
  notification_type: z.enum(['sms', 'email', 'letter']),
  template_id: z.uuid().optional(),
  template_version: z.number().int().optional(),
});
export type DeliveryReceipt = z.output<typeof deliveryReceiptSchema>;
