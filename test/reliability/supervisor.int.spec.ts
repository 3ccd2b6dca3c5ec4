import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive } from './processes';

// The supervisor that keeps each local service running (infra/local/lib/supervise.sh), run here against a
// throw-away process, so the test never touches the network's own services.
const SUPERVISE = join(__dirname, '../../infra/local/lib/supervise.sh');
const IDLE = ['node', '-e', 'setInterval(() => {}, 1e6)'];

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the service supervisor', () => {
  let dir: string;
  let supervisor: ChildProcess;
  let log = '';

  const childPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
      return pid > 0 && alive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const exited = () => new Promise<number | null>((resolve) => supervisor.once('exit', (code) => resolve(code)));

  function start(command: string[], env: Record<string, string> = {}): void {
    log = '';
    supervisor = spawn('bash', [SUPERVISE, 'dummy', join(dir, 'child.pid'), '--', ...command], {
      env: { ...process.env, SUPERVISE_BACKOFF_INITIAL: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    supervisor.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  }

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'supervise-'))));
  afterEach(() => {
    if (supervisor.exitCode === null) supervisor.kill('SIGKILL');
    const pid = childPid();
    if (pid) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a process killed with SIGKILL again within seconds, and logs the restart', async () => {
    start(IDLE);
    const first = await until('the first child', childPid);
    const killedAt = Date.now();
    process.kill(first, 'SIGKILL');
    const second = await until('a new child', () => {
      const pid = childPid();
      return pid && pid !== first ? pid : undefined;
    });
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    expect(alive(second)).toBe(true);
    expect(log).toMatch(new RegExp(`dummy: pid ${first} exited \\(status 137\\) after \\d+s; restart #1 in 1s`));
  });

  it('stops its process when stopped, leaving nothing running', async () => {
    start(IDLE);
    const child = await until('the child', childPid);
    const done = exited();
    supervisor.kill('SIGTERM');
    expect(await done).toBe(0);
    expect(alive(child)).toBe(false);
    expect(log).toContain('dummy: stopped');
  });

  it('backs off longer each time a process keeps exiting, and still stops at once while waiting', async () => {
    start(['node', '-e', 'process.exit(3)'], { SUPERVISE_BACKOFF_MAX: '4' });
    await until('three restarts', () => (/restart #3 in 4s/.test(log) ? true : undefined), 15_000);
    expect(log).toMatch(/status 3\) after \d+s; restart #1 in 1s/);
    expect(log).toMatch(/restart #2 in 2s/);
    const asked = Date.now();
    const done = exited();
    supervisor.kill('SIGTERM');
    expect(await done).toBe(0);
    expect(Date.now() - asked).toBeLessThan(2_000);
  });

  it('restarts its process at once on SIGHUP (a restart asked for, not a crash)', async () => {
    start(IDLE);
    const first = await until('the first child', childPid);
    supervisor.kill('SIGHUP');
    const second = await until('a new child', () => {
      const pid = childPid();
      return pid && pid !== first ? pid : undefined;
    });
    expect(alive(first)).toBe(false);
    expect(alive(second)).toBe(true);
    expect(log).toContain('dummy: restart requested');
    expect(log).not.toContain('restart #1');
  });
});
