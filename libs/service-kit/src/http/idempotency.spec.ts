import { InMemoryIdempotencyStore } from './idempotency';
import { describeIdempotencyContract } from '../../test/idempotency.contract';

describeIdempotencyContract('in memory', (ttlMs, inProgressMs) => new InMemoryIdempotencyStore(ttlMs, inProgressMs));
