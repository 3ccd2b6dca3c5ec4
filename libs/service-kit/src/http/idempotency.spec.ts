import { InMemoryIdempotencyStore } from './idempotency';
import { describeIdempotencyContract } from './idempotency.contract';

describeIdempotencyContract('in memory', (ttlMs) => new InMemoryIdempotencyStore(ttlMs));
