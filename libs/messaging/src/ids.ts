import { v5 as uuidv5 } from 'uuid';

/** Namespace for ids this network derives; fixed forever (changing it changes every derived id). */
export const SONET_ID_NAMESPACE = '6f1c3a52-8a7e-4c1b-9d3e-2b7c5e9a0f41';

/**
 * A name-based UUID (v5) from parts such as a workflow id and a step name. A retried activity derives
 * the same event id, the outbox ignores the second insert, and consumers dedupe on it.
 */
export const deriveId = (...parts: readonly string[]): string => uuidv5(parts.join('/'), SONET_ID_NAMESPACE);
