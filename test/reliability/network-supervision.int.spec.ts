import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@sonet/testing';
import { alive } from './processes';

// `infra/local/network.sh` supervising services, tried in a sandbox: a copy of the script in a temporary root,
// the infrastructure scripts it calls replaced by no-ops, and two throw-away HTTP servers in place of the audit and
// notification services. Nothing of the developer's running network is touched.
const REPO = join(__dirname, '../..');
const run = promisify(execFile);

const FAKE_SERVICE = `
const http = require('node:http');
const server = http.createServer((req, res) => res.writeHead(req.url === '/health/ready' ? 200 : 404).end());
server.listen(Number(process.env.HTTP_PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

function makeSandbox(): string {
  const root = mkdtempSync(join(tmpdir(), 'network-sandbox-'));
  mkdirSync(join(root, 'infra/local'), { recursive: true });
  copyFileSync(join(REPO, 'infra/local/network.sh'), join(root, 'infra/local/network.sh'));
  copyFileSync(join(REPO, 'infra/local/node-env.sh'), join(root, 'infra/local/node-env.sh'));
  cpSync(join(REPO, 'infra/local/lib'), join(root, 'infra/local/lib'), { recursive: true });
  copyFileSync(join(REPO, '.nvmrc'), join(root, '.nvmrc'));
  for (const script of ['stack.sh', 'fhir.sh', 'orthanc.sh', 'toxiproxy.sh', 'zipkin.sh'])
    writeFileSync(join(root, 'infra/local', script), 'exit 0\n');
  mkdirSync(join(root, 'dist/libs/observability/src'), { recursive: true });
  writeFileSync(join(root, 'dist/libs/observability/src/register.js'), '');
  for (const name of ['audit', 'notification']) {
    mkdirSync(join(root, `dist/services/${name}/src`), { recursive: true });
    writeFileSync(join(root, `dist/services/${name}/src/main.js`), FAKE_SERVICE);
    writeFileSync(join(root, `dist/services/${name}/src/migrate.js`), '');
  }
  return root;
}

describe('the local network supervises its services', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;

  const network = (...args: string[]) => run('bash', [join(root, 'infra/local/network.sh'), ...args], { env, timeout: 60_000 });
  const pidOf = (name: string): number | undefined => {
    try {
      const pid = Number(readFileSync(join(root, `.local/run/${name}.pid`), 'utf8'));
      return alive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const supervisorOf = (name: string) => Number(readFileSync(join(root, `.local/run/${name}.supervisor.pid`), 'utf8'));
  const ready = async (port: number) => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status === 200;

  beforeAll(async () => {
    root = makeSandbox();
    env = {
      ...process.env,
      AUDIT_HTTP_PORT: String(await freePort()),
      NOTIFICATION_HTTP_PORT: String(await freePort()),
      READY_TIMEOUT: '20',
    };
    await network('restart', 'audit');
    await network('restart', 'notification');
  });

  afterAll(async () => {
    await network('stop').catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  it('runs each service under a supervisor, and says so', async () => {
    const { stdout } = await network('status').catch((e: { stdout: string }) => e);
    expect(stdout).toMatch(/audit\s+ready .*\(pid \d+, supervised\)/);
    expect(stdout).toMatch(/notification\s+ready .*\(pid \d+, supervised\)/);
  });

  it('starts a service killed with SIGKILL again within seconds, leaving the others alone', async () => {
    const killed = pidOf('audit')!;
    const other = pidOf('notification');
    const at = Date.now();
    process.kill(killed, 'SIGKILL');
    for (;;) {
      const pid = pidOf('audit');
      if (pid && pid !== killed && (await ready(Number(env.AUDIT_HTTP_PORT)))) break;
      expect(Date.now() - at).toBeLessThan(5_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(pidOf('notification')).toBe(other);
    expect(readFileSync(join(root, '.local/logs/audit.log'), 'utf8')).toMatch(/\[supervise\] audit: pid \d+ exited \(status 137\)/);
  });

  it('`restart <service>` restarts that one service and waits until it is ready', async () => {
    const before = pidOf('audit');
    const other = pidOf('notification');
    await network('restart', 'audit');
    expect(pidOf('audit')).not.toBe(before);
    expect(await ready(Number(env.AUDIT_HTTP_PORT))).toBe(true);
    expect(pidOf('notification')).toBe(other);
  });

  it('refuses to restart a service it does not know', async () => {
    await expect(network('restart', 'nonesuch')).rejects.toMatchObject({ stderr: expect.stringContaining('usage: network.sh restart') });
  });

  it('`stop` stops services and supervisors alike: nothing is left running', async () => {
    const pids = ['audit', 'notification'].flatMap((n) => [pidOf(n)!, supervisorOf(n)]);
    expect(pids.every(alive)).toBe(true);
    await network('stop');
    expect(pids.filter(alive)).toEqual([]);
  });
});
