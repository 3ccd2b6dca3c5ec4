import { createServer, type Server } from 'node:net';
import { freePort, portIsFree, TEST_PORT_RANGE } from './ports';

describe('ports for test servers', () => {
  const listening: Server[] = [];
  afterAll(async () => {
    await Promise.all(listening.map((s) => new Promise((r) => s.close(r))));
  });

  it('gives ports below the kernel ephemeral range, where outgoing connections never take them', async () => {
    for (let i = 0; i < 20; i++) {
      const port = await freePort();
      expect(port).toBeGreaterThanOrEqual(TEST_PORT_RANGE.first);
      expect(port).toBeLessThanOrEqual(TEST_PORT_RANGE.last);
      expect(port).toBeLessThan(32_768);
    }
  });

  it('passes over a port something already listens on', async () => {
    const taken = await freePort();
    const server = createServer();
    await new Promise<void>((r) => server.listen(taken, '127.0.0.1', r));
    listening.push(server);
    expect(await portIsFree(taken)).toBe(false);

    const size = TEST_PORT_RANGE.last - TEST_PORT_RANGE.first + 1;
    const draws = [(taken - TEST_PORT_RANGE.first) / size, 0.5];
    const port = await freePort(() => draws.shift() ?? Math.random());
    expect(port).not.toBe(taken);
    expect(await portIsFree(port)).toBe(true);
  });
});
