import { z } from 'zod';
import { BadInput } from './session';

/** Every form carries a submission id (the Idempotency-Key's seed) and the CSRF token (checked before handlers). */
export const submissionSchema = z.object({ submission: z.uuid(), _csrf: z.string().optional() });

/** Validates a form body or a path/query value; anything else is a 400 page naming each problem (never echoing values). */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input ?? {});
  if (!r.success) throw new BadInput(r.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`));
  return r.data;
}

export const uuidParam = z.uuid({ message: 'must be a referral id (a UUID)' });
