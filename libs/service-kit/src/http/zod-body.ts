import { z, type ZodError } from 'zod';
import { validationProblem, type InvalidParam } from './problem';

/** One entry per invalid field; an unknown field is named itself (its value never is). */
export const zodIssuesToParams = (error: ZodError): InvalidParam[] =>
  error.issues.flatMap((i) => {
    const at = i.path.join('.');
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => ({ name: at ? `${at}.${k}` : k, reason: 'not a field this request takes' }));
    }
    return [{ name: at || '(body)', reason: i.message }];
  });

/**
 * Parses untrusted input with a schema, or throws a 400 problem naming each invalid field.
 * The input's values are never echoed back (they may hold patient identifiers).
 */
export function parseOrProblem<S extends z.ZodType>(schema: S, input: unknown, what = 'request body'): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw validationProblem(zodIssuesToParams(r.error), `The ${what} is not valid.`);
  return r.data;
}

/** The query of an endpoint that takes no parameters: any parameter is refused, so a misspelt one cannot pass unnoticed. */
export const noQueryParametersSchema = z.object({}).strict();
