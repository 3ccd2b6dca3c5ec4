import { retryingWhileRetriable } from './group-offsets';

const kafkaError = (retriable: boolean) =>
  Object.assign(new Error('This server is not the leader for that topic-partition'), { retriable });

describe('retryingWhileRetriable', () => {
  it('tries again while Kafka calls the error retriable, and answers the first success', async () => {
    let calls = 0;
    const result = await retryingWhileRetriable(async () => {
      calls += 1;
      if (calls < 3) throw kafkaError(true);
      return 'offsets';
    });
    expect(result).toBe('offsets');
    expect(calls).toBe(3);
  });

  it('fails at once on an error that is not retriable', async () => {
    let calls = 0;
    const failing = retryingWhileRetriable(async () => {
      calls += 1;
      throw kafkaError(false);
    });
    await expect(failing).rejects.toThrow('not the leader');
    expect(calls).toBe(1);
  });

  it('gives up once its time is spent', async () => {
    const started = Date.now();
    await expect(
      retryingWhileRetriable(async () => {
        throw kafkaError(true);
      }, 300),
    ).rejects.toThrow('not the leader');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
