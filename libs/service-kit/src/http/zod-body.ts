import { type ZodError, type z } from 'zod';
import { validationProblem, type InvalidParam } from './problem';

export const zodIssuesToParams = (error: ZodError): InvalidParam[] =>
  error.issues.map((i) => ({ name: i.path.join('.') || '(body)', reason: i.message }));

/**
 * Parses untrusted input with a schema, or throws a 400 problem naming each invalid field.
 * The input's values are never echoed back (they may hold patient identifiers).
 */
export function parseOrProblem<S extends z.ZodType>(schema: S, input: unknown, what = 'request body'): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw validationProblem(zodIssuesToParams(r.error), `The ${what} is not valid.`);
  return r.data;
}
