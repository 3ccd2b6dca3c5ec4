import canonicalize from 'canonicalize';

export class NotCanonicalisableError extends Error {
  constructor(reason: string) {
    super(`value cannot be written as RFC 8785 JSON: ${reason}`);
    this.name = 'NotCanonicalisableError';
  }
}

/**
 * RFC 8785 (JSON Canonicalization Scheme): keys sorted by UTF-16 code units, no whitespace, numbers in
 * ECMAScript shortest form, strings with the minimal JSON escapes. The same value always gives the same
 * text, whatever key order or formatting it arrived in, so a hash of this text is a hash of the value.
 * Lone surrogates, NaN and Infinity have no canonical form and are refused.
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (e) {
    throw new NotCanonicalisableError((e as Error).message);
  }
  if (text === undefined) throw new NotCanonicalisableError('it has no JSON representation');
  return text;
}
