import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { freePort } from './ports';
import { Connection } from '@temporalio/client';
import { InternalConnectionOptionsSymbol, type InternalConnectionOptions } from '@temporalio/client/lib/connection';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime, type NativeConnectionOptions } from '@temporalio/worker';

/** Temporal's worker logs at INFO by default; tests only want warnings. Safe to call more than once. */
export function quietTemporalRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed in this test file's module registry.
  }
}

/** The script that installs and runs Temporal's Java time-skipping test server (jars from Maven Central). */
export const temporalTestServerScript = resolve(__dirname, '../../../infra/local/temporal-test-server.sh');
const INSTALL_COMMAND = 'infra/local/temporal-test-server.sh install';

export interface TimeSkippingEnvironmentOptions {
  /**
   * How long to wait for the test server to accept connections. Default 60 s, or
   * TEMPORAL_TEST_SERVER_START_TIMEOUT_MS. It takes 0.2-0.5 s on an idle machine and a few seconds on a loaded one.
   */
  startTimeoutMs?: number;
}

/**
 * A time-skipping Temporal test environment on its own test server (one JVM, started here, stopped by
 * `env.teardown()`). `env.client` skips time while a workflow result is awaited, `env.sleep('10 days')` skips
 * time by hand, and Workers connect with `env.nativeConnection`. The server's clock is shared by everything on
 * it, so use one environment per test file and run that file's workflows one after another.
 *
 * Installs the server if it is missing (Maven Central, a few seconds; infra/local/test.sh does it up front).
 *
 * Why not `TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path' } } })`:
 * the SDK gives the server 5 s to answer, and a JVM on a busy 2-core machine can take 4 s. Here the wait is
 * as long as `startTimeoutMs`, a server that exits is reported with its output, and the server dies with the
 * test process even when that is killed.
 */
export async function createTimeSkippingEnvironment(options: TimeSkippingEnvironmentOptions = {}): Promise<TestWorkflowEnvironment> {
  quietTemporalRuntime();
  await ensureTemporalTestServer();
  const timeoutMs = options.startTimeoutMs ?? Number(process.env.TEMPORAL_TEST_SERVER_START_TIMEOUT_MS ?? 60_000);
  const server = await startTestServer(timeoutMs);
  try {
    return await TimeSkippingEnvironment.connectTo(server);
  } catch (e) {
    await server.stop();
    throw e;
  }
}

/** Install the test server's jars into .local/cache unless they are there (about 20 ms when they are). */
export async function ensureTemporalTestServer(): Promise<void> {
  await new Promise<void>((done, fail) => {
    execFile(temporalTestServerScript, ['install'], { timeout: 300_000 }, (error, _stdout, stderr) => {
      if (!error) return done();
      fail(new Error(`the Temporal test server is not installed and installing it failed; run: ${INSTALL_COMMAND}\n${tail(stderr)}`));
    });
  });
}

interface RunningTestServer {
  address: string;
  stop(): Promise<void>;
}

class TimeSkippingEnvironment extends TestWorkflowEnvironment {
  private testServer?: RunningTestServer;

  /** The SDK's createTimeSkipping wiring (test-service-enabled connections, TimeSkippingClient) on a server we run. */
  static async connectTo(server: RunningTestServer): Promise<TimeSkippingEnvironment> {
    const internal = { [InternalConnectionOptionsSymbol]: { supportsTestService: true } };
    const nativeConnection = await NativeConnection.connect({ address: server.address, ...internal } as NativeConnectionOptions);
    let connection: Connection;
    try {
      connection = await Connection.connect({ address: server.address, ...internal } as InternalConnectionOptions);
    } catch (e) {
      await nativeConnection.close();
      throw e;
    }
    const env = new TimeSkippingEnvironment(
      Runtime.instance(),
      { server: { type: 'time-skipping' }, client: {}, plugins: [] },
      true, // supportsTimeSkipping
      'existing', // the SDK must not try to stop a server it did not start
      connection,
      nativeConnection,
      undefined, // namespace: the clients' default
      server.address,
    );
    env.testServer = server;
    return env;
  }

  override async teardown(): Promise<void> {
    try {
      await super.teardown();
    } finally {
      await this.testServer?.stop();
    }
  }
}

async function startTestServer(timeoutMs: number): Promise<RunningTestServer> {
  const port = await freePort();
  const child = spawn(temporalTestServerScript, [String(port)], {
    // The server gets SIGTERM if this process dies without a teardown (e.g. a Jest worker that is killed).
    env: { ...process.env, TEMPORAL_TEST_SERVER_DIE_WITH_PARENT: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let exitInfo: string | undefined;
  child.once('exit', (code, signal) => (exitInfo = signal ? `signal ${signal}` : `code ${code}`));
  child.once('error', (e) => (exitInfo = e.message));

  const address = `127.0.0.1:${port}`;
  const started = Date.now();
  while (!(await accepts(port))) {
    if (exitInfo !== undefined) {
      throw new Error(`the Temporal test server exited (${exitInfo}) before it listened on ${address}\n${tail(output)}`);
    }
    if (Date.now() - started > timeoutMs) {
      await stopChild(child, exited);
      throw new Error(`the Temporal test server did not listen on ${address} within ${timeoutMs} ms\n${tail(output)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { address, stop: () => stopChild(child, exited) };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killer);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => {
      socket.destroy();
      done(false);
    });
  });
}

const tail = (text: string) =>
  text
    .trim()
    .split('\n')
    .slice(-20)
    .map((l) => `  | ${l}`)
    .join('\n');
