/**
 * The patched kafkajs request queue (patches/kafkajs+2.2.4.patch, docs/adr/0022): with nothing pending it schedules no
 * check. Stock kafkajs 2.2.4 schedules one with a negative delay (1 ms) after every check, so each broker connection
 * checks its empty queue a thousand times a second for as long as it lives.
 */
// kafkajs's internal class, not in its typings.
const RequestQueue = require('kafkajs/src/network/requestQueue') as new (o: object) => {
  pending: unknown[];
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  throttledUntil: number;
  checkPendingRequests(): void;
  destroy(): void;
};

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const newQueue = () =>
  new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 1000, clientId: 'test', broker: 'b:9092', logger: quiet });

describe('kafkajs request queue (patched)', () => {
  it('schedules no check when nothing is pending', () => {
    const queue = newQueue();
    try {
      queue.checkPendingRequests();
      expect(queue.throttleCheckTimeoutId).toBeNull();
    } finally {
      queue.destroy();
    }
  });

  it('still schedules a check while a request waits out a throttle', () => {
    const queue = newQueue();
    try {
      queue.throttledUntil = Date.now() + 60_000;
      queue.pending.push({ correlationId: 1, send() {} });
      queue.checkPendingRequests();
      expect(queue.pending).toHaveLength(1);
      expect(queue.throttleCheckTimeoutId).not.toBeNull();
    } finally {
      queue.destroy();
    }
  });
});
