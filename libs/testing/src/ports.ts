import { createServer } from 'node:net';

/**
 * Ports a test hands out before its server binds them. They lie below Linux's ephemeral range (32768–60999), from
 * which the kernel picks the local port of every outgoing connection: a port taken from there (`listen(0)`) and
 * released can be the source port of a Kafka or PostgreSQL connection a moment later, and the server that was
 * promised it fails with EADDRINUSE. Below it, only another listener can collide, and the probe sees that.
 */
export const TEST_PORT_RANGE = { first: 20_000, last: 32_000 } as const;

/** Whether nothing listens on `port`, on any address (a probe binds it on all interfaces, then lets it go). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '0.0.0.0', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/**
 * A free TCP port for a server that starts a moment later (a child process told its port in advance), drawn at
 * random from TEST_PORT_RANGE so that parallel test workers rarely try the same one.
 */
export async function freePort(random: () => number = Math.random): Promise<number> {
  const size = TEST_PORT_RANGE.last - TEST_PORT_RANGE.first + 1;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = TEST_PORT_RANGE.first + Math.floor(random() * size);
    if (await portIsFree(port)) return port;
  }
  throw new Error(`no free port in ${TEST_PORT_RANGE.first}–${TEST_PORT_RANGE.last} after 200 tries`);
}
