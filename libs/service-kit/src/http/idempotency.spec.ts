import { InMemoryIdempotencyStore } from './idempotency';
import { describeIdempotencyContract } from '../../test/idempotency.contract';

describeIdempotencyContract('in memory', (ttlMs) => new InMemoryIdempotencyStore(ttlMs));
