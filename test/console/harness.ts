import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The browser tests' harness: the console (started here if it does not answer), Chromium, screenshots and axe. */
export const ROOT = resolve(__dirname, '..', '..');
export const CONSOLE_URL = process.env.CONSOLE_URL ?? `http://127.0.0.1:${process.env.CONSOLE_HTTP_PORT ?? 8080}`;
export const OUTPUT = resolve(ROOT, '.local/test-output/console');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ready = async (): Promise<boolean> => {
  try {
    return (await fetch(`${CONSOLE_URL}/health/ready`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
};

/** Starts the built console (dist/) when none answers at CONSOLE_URL; returns how to stop what it started. */
export async function ensureConsole(): Promise<() => Promise<void>> {
  if (await ready()) return async () => undefined;
  const main = resolve(ROOT, 'dist/services/console/src/main.js');
  if (!existsSync(main))
    throw new Error(`no console answers at ${CONSOLE_URL} and ${main} is not built: run \`npm start\` (or node tools/build.mjs)`);
  const child: ChildProcess = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: { ...process.env, HTTP_PORT: new URL(CONSOLE_URL).port, NODE_ENV: 'development' },
    stdio: 'ignore',
  });
  const deadline = Date.now() + 30_000;
  while (!(await ready())) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('the console did not start within 30 s');
    await new Promise((r) => setTimeout(r, 250));
  }
  return async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run infra/local/chromium.sh (or set CHROMIUM_PATH)`);
  mkdirSync(OUTPUT, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core in the page (WCAG 2.0/2.1/2.2 A and AA rules) and returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<{ id: string; help: string; targets: string[] }[]> {
  // Evaluated over the DevTools protocol, so the page's Content-Security-Policy does not apply to axe itself.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run((globalThis as unknown as { document: unknown }).document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return r.violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, help: v.help, targets: v.nodes.flatMap((n) => n.target).slice(0, 5) }));
}

/** The page as it is now: a screenshot of the viewport under .local/test-output/console/ and its axe check (0 serious or critical). */
export async function checkPage(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(OUTPUT, `${name}.png`) });
  expect({ page: name, violations: await seriousViolations(page) }).toEqual({ page: name, violations: [] });
}

export async function signIn(page: Page, role: string, organisation: string, nhsNumber?: string): Promise<void> {
  await page.goto(`${CONSOLE_URL}/sign-in`);
  await page.getByLabel(roleLabel(role), { exact: true }).check();
  await page.getByLabel('Organisation (ODS code)').fill(organisation);
  if (nhsNumber) await page.getByLabel('NHS number (patients only)').fill(nhsNumber);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
}

const roleLabel = (role: string): string =>
  ({ ops: 'Operations', auditor: 'Auditor', patient: 'Patient', gp: 'GP (referring practice)', clinician: 'Clinician (receiving team)' })[
    role
  ] ?? role;
