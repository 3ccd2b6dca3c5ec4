import { execFile } from 'node:child_process';
import { createPublicKey, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventually, integrationSettings, randomTestNhsNumber, secondOpinionRequest, testTokens, uniqueSuffix } from '@sonet/testing';
import { checkPage, CONSOLE_URL, ensureConsole, launchBrowser, OUTPUT, ROOT, signIn } from './harness';

/**
 * The web console in a real browser (Chromium driven by playwright-core) against the running network: each person's
 * main path, a screenshot of every main page under .local/test-output/console/, and axe-core on every page
 * (0 serious or critical WCAG violations).
 */
const api = {
  referral: process.env.REFERRAL_API_URL ?? 'http://127.0.0.1:8081',
  audit: process.env.AUDIT_API_URL ?? 'http://127.0.0.1:8084',
};

// Bounded, with room for a loaded 2-core machine: each path is a handful of pages and one or two workflow steps.
jest.setTimeout(240_000);
const execFileAsync = promisify(execFile);

let tokens: Awaited<ReturnType<typeof testTokens>>;
let browser: Browser;
let stopConsole: () => Promise<void>;

/** A fresh browser session (own cookies) per person. */
async function personPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  // Generous for a loaded machine: the stuck list asks Temporal about every workflow whose activity keeps failing.
  context.setDefaultTimeout(60_000);
  return { context, page: await context.newPage() };
}

/** A referral made through the API by a GP of A81001 for a fresh test patient, once it waits for the GP. */
async function referralInGpReview(nhsNumber = randomTestNhsNumber()): Promise<string> {
  const res = await fetch(`${api.referral}/v1/referrals`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID(), ...(await tokens.bearer('gp', 'A81001')) },
    body: JSON.stringify(secondOpinionRequest({ name: 'Console Walk', email: `console-${uniqueSuffix()}@patients.example`, nhsNumber })),
  });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  await eventually(async () => {
    const r = await fetch(`${api.referral}/v1/referrals/${id}`, { headers: await tokens.bearer('gp', 'A81001') });
    return ((await r.json()) as { state: string }).state === 'gp-review' ? true : undefined;
  }, 60_000);
  return id;
}

beforeAll(async () => {
  tokens = await testTokens();
  stopConsole = await ensureConsole();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await stopConsole?.();
});

describe('an operator', () => {
  let referralId: string;
  let poisonKey: string;

  beforeAll(async () => {
    referralId = await referralInGpReview();
    // The step's due time moved into the past, as if the GP had not decided for weeks (the read model the stuck list
    // reads). Set again until the stuck list shows it: a late projection of the request may write the due time after us.
    const db = new Client({ ...integrationSettings().pg, database: 'referral' });
    await db.connect();
    try {
      const ops = await tokens.bearer('ops', 'X26');
      await eventually(
        async () => {
          await db.query(`update referral set due_at = now() - interval '1 hour' where id = $1`, [referralId]);
          const r = await fetch(`${api.referral}/v1/ops/stuck`, { headers: ops });
          return ((await r.json()) as { referrals: { referralId: string }[] }).referrals.some((x) => x.referralId === referralId)
            ? true
            : undefined;
        },
        60_000,
        2_000,
      );
    } finally {
      await db.end();
    }
    // A dead letter of this run: an event no consumer can read, under a key of its own.
    poisonKey = randomUUID();
    const kafka = new Kafka({
      clientId: `console-e2e-${uniqueSuffix()}`,
      brokers: integrationSettings().kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'referral.events.v1',
      messages: [
        {
          key: poisonKey,
          value: JSON.stringify({ unreadable: true }),
          headers: {
            ce_id: randomUUID(),
            ce_type: 'referral.requested.v1',
            ce_source: '/sonet/referral',
            ce_subject: poisonKey,
            ce_specversion: '1.0',
            ce_time: new Date().toISOString(),
            'content-type': 'application/json',
          },
        },
      ],
    });
    await producer.disconnect();
    const ops = await tokens.bearer('ops', 'X26');
    await eventually(
      async () => {
        const r = await fetch(`${api.referral}/v1/ops/dead-letters?topic=referral.events.v1`, { headers: ops });
        return ((await r.json()) as { items: { key: string | null }[] }).items.some((d) => d.key === poisonKey) ? true : undefined;
      },
      60_000,
      500,
    );
  });

  it('finds the stuck referral, with links to its workflow in Temporal, and replays a dead letter', async () => {
    const { context, page } = await personPage();
    try {
      await page.goto(`${CONSOLE_URL}/`);
      expect(page.url()).toBe(`${CONSOLE_URL}/sign-in`);
      await checkPage(page, 'sign-in');
      await signIn(page, 'ops', 'X26');
      expect(page.url()).toBe(`${CONSOLE_URL}/ops`);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Referrals by state');
      await checkPage(page, 'ops-overview');

      await page.getByRole('link', { name: 'Stuck', exact: true }).first().click();
      await page.waitForURL(`${CONSOLE_URL}/ops/stuck`);
      const row = page.locator(`tr[data-referral="${referralId}"]`);
      expect(await row.textContent()).toContain('Overdue step: gp-decision');
      const temporal = await row.getByRole('link', { name: /Workflow.*in Temporal/ }).getAttribute('href');
      expect(temporal).toContain(`/workflows/${encodeURIComponent(`second-opinion/${referralId}`)}`);
      await checkPage(page, 'ops-stuck');

      await page.getByRole('link', { name: 'Dead letters', exact: true }).first().click();
      await page.getByLabel('Topic').selectOption('referral.events.v1');
      await page.getByRole('button', { name: 'Show dead letters' }).click();
      const letter = page.locator(`tr[data-key="${poisonKey}"]`).first();
      const letterId = await letter.getAttribute('data-id');
      expect(letterId).toMatch(/^referral\.events\.v1\.dlq:\d+:\d+$/);
      await checkPage(page, 'ops-dead-letters');
      await letter.getByRole('button', { name: /^Replay/ }).click();
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Replay this dead letter?');
      await checkPage(page, 'ops-replay-confirm');
      await page.getByRole('button', { name: 'Yes, replay it' }).click();
      expect(await page.locator('.nhsuk-panel').textContent()).toContain(`${letterId} was sent to referral.events.v1 again`);
      await checkPage(page, 'ops-replay-done');

      await page.getByRole('link', { name: 'Records transfers', exact: true }).first().click();
      await checkPage(page, 'ops-transfers');
      await page.getByRole('link', { name: 'Undelivered notifications', exact: true }).first().click();
      await checkPage(page, 'ops-notifications');
      await page.goto(`${CONSOLE_URL}/ops/referrals/${referralId}`);
      expect(await page.getByRole('link', { name: 'Open in Temporal' }).getAttribute('href')).toContain(
        encodeURIComponent(`second-opinion/${referralId}`),
      );
      await checkPage(page, 'ops-referral');
    } finally {
      await context.close();
    }
  });

  it('gets a clear 400 page for a malformed referral id, a 404 page for an unknown one, and a 403 for a forged form', async () => {
    const { context, page } = await personPage();
    try {
      await signIn(page, 'ops', 'X26');
      const bad = await page.goto(`${CONSOLE_URL}/ops/referrals/not-a-uuid`);
      expect(bad?.status()).toBe(400);
      expect(await page.locator('.nhsuk-error-summary').textContent()).toContain('must be a referral id');
      const unknown = await page.goto(`${CONSOLE_URL}/ops/referrals/${randomUUID()}`);
      expect(unknown?.status()).toBe(404);
      await checkPage(page, 'not-found');
      // A form POST without the session's CSRF token never reaches the service.
      const forged = await page.request.post(`${CONSOLE_URL}/ops/dead-letters/replay`, {
        form: { id: 'referral.events.v1.dlq:0:0', topic: 'referral.events.v1', submission: randomUUID(), confirmed: 'yes' },
        maxRedirects: 0,
      });
      expect(forged.status()).toBe(403);
      expect(await forged.text()).toContain('The form has expired');
      // The browser holds an opaque, HttpOnly session cookie; no bearer token reaches the page.
      const [cookie] = (await context.cookies()).filter((c) => c.name === 'console.sid');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
      expect(cookie!.value).not.toMatch(/^eyJ/);
      expect(await page.content()).not.toMatch(/eyJ[\w-]+\.eyJ/);
    } finally {
      await context.close();
    }
  });
});

describe('an auditor', () => {
  let referralId: string;
  const nhsNumber = randomTestNhsNumber();

  beforeAll(async () => {
    referralId = await referralInGpReview(nhsNumber);
    const auditor = await tokens.bearer('auditor', 'X26');
    await eventually(
      async () => {
        const r = await fetch(`${api.audit}/v1/audit/referrals/${referralId}/timeline`, { headers: auditor });
        return r.ok && ((await r.json()) as { items: unknown[] }).items.length > 0 ? true : undefined;
      },
      60_000,
      500,
    );
  });

  it('verifies the chain, reads the timeline and downloads an evidence pack that verifies offline', async () => {
    const { context, page } = await personPage();
    try {
      await signIn(page, 'auditor', 'X26');
      expect(page.url()).toBe(`${CONSOLE_URL}/audit`);
      await checkPage(page, 'audit-find');

      await page.getByRole('link', { name: 'Audit chain', exact: true }).first().click();
      await page.getByRole('button', { name: 'Verify now' }).click();
      expect(await page.locator('.nhsuk-panel').textContent()).toContain('The chain verified');
      await checkPage(page, 'audit-chain');

      await page.getByRole('link', { name: 'Find', exact: true }).first().click();
      await page.getByLabel('Referral id').fill(referralId);
      await page.getByRole('button', { name: 'Find referral' }).click();
      expect(page.url()).toBe(`${CONSOLE_URL}/audit/referrals/${referralId}`);
      expect(await page.locator('#timeline').textContent()).toMatch(/referral\.requested\.v\d/);
      await checkPage(page, 'audit-referral');

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download the evidence pack (NDJSON)' }).click(),
      ]);
      const pack = resolve(OUTPUT, `audit-${referralId}.ndjson`);
      await download.saveAs(pack);
      // The command the page shows, run offline against the file, with the checkpoint key's public half (what
      // `npm run -s audit -- public-key` prints: the SPKI of the local signing key).
      const dir = mkdtempSync(join(tmpdir(), 'console-e2e-'));
      const pem = join(dir, 'audit-public-key.pem');
      const signingKey = resolve(ROOT, process.env.AUDIT_CHECKPOINT_KEY_FILE ?? '.local/state/audit/checkpoint-signing-key.pem');
      writeFileSync(pem, createPublicKey(readFileSync(signingKey)).export({ type: 'spki', format: 'pem' }).toString());
      // A tampered copy must not verify (so the check can fail); both run at once.
      const tampered = join(dir, 'tampered.ndjson');
      writeFileSync(tampered, readFileSync(pack, 'utf8').replace(/referral\.requested/, 'referral.reqvested'));
      const cli = resolve(ROOT, 'dist/services/audit/src/cli.js');
      const verify = (file: string) =>
        execFileAsync(process.execPath, [cli, 'verify-export', file, '--public-key', pem], { cwd: ROOT, encoding: 'utf8' }).then(
          ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
          (e: { code?: number; stdout?: string; stderr?: string }) => ({
            code: e.code ?? -1,
            stdout: e.stdout ?? '',
            stderr: e.stderr ?? '',
          }),
        );
      const [genuine, forged] = await Promise.all([verify(pack), verify(tampered)]);
      // The report (its problems) or the error in the failure message, not only the exit code.
      expect({ code: genuine.code, report: genuine.stdout, stderr: genuine.stderr }).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(genuine.stdout)).toMatchObject({ referralId, ok: true, problems: [] });
      expect(forged.code).toBe(2);
    } finally {
      await context.close();
    }
  });

  it('finds a patient by NHS number without it reaching the address, and each view is audited', async () => {
    const { context, page } = await personPage();
    try {
      await signIn(page, 'auditor', 'X26');
      await page.getByLabel('NHS number').fill(nhsNumber);
      await page.getByRole('button', { name: 'Find patient' }).click();
      expect(page.url()).not.toContain(nhsNumber);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe("Who accessed this patient's records");
      expect(await page.getByRole('link', { name: `Referral ${referralId}` }).count()).toBe(1);
      await checkPage(page, 'audit-patient');
      const auditor = await tokens.bearer('auditor', 'X26');
      await eventually(
        async () => {
          const r = await fetch(`${api.audit}/v1/audit/events?referralId=${referralId}&type=access.recorded.v1&limit=100`, {
            headers: auditor,
          });
          const items = ((await r.json()) as { items: { data: { actor: { role: string; subject: string } } }[] }).items;
          return items.some((e) => e.data.actor.role === 'auditor' && e.data.actor.subject === 'auditor@X26') ? true : undefined;
        },
        30_000,
        500,
      );
    } finally {
      await context.close();
    }
  });
});

describe('a patient', () => {
  const nhsNumber = randomTestNhsNumber();
  let referralId: string;

  beforeAll(async () => {
    referralId = await referralInGpReview(nhsNumber);
  });

  it('sees where the request is, who is responsible and PALS, and withdraws it after a plain-English confirmation', async () => {
    const { context, page } = await personPage();
    try {
      await signIn(page, 'patient', 'A81001', nhsNumber);
      expect(page.url()).toBe(`${CONSOLE_URL}/patient`);
      const card = page.locator(`[data-referral="${referralId}"]`);
      expect(await card.textContent()).toContain('Your GP is looking at your request.');
      expect(await card.textContent()).toContain('Responsible for your care');
      expect(await page.locator('#pals-contact').textContent()).toContain('01632 960 000');
      expect(await page.content()).not.toContain(nhsNumber);
      await checkPage(page, 'patient-status');

      await card.getByRole('button', { name: 'Withdraw my request' }).click();
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Withdraw your request for a second opinion?');
      expect(await page.locator('#pals-contact').count()).toBe(1);
      await checkPage(page, 'patient-withdraw-confirm');
      await page.getByRole('button', { name: 'Yes, withdraw my request' }).click();
      expect(await page.locator('.nhsuk-panel').textContent()).toContain('Your request has been withdrawn');
      await checkPage(page, 'patient-withdrawn');
      await page.getByRole('link', { name: 'See your request' }).click();
      expect(await page.locator(`[data-referral="${referralId}"]`).textContent()).toContain('You withdrew your request.');
      const r = await fetch(`${api.referral}/v1/referrals/${referralId}`, { headers: await tokens.bearer('gp', 'A81001') });
      expect(((await r.json()) as { state: string }).state).toBe('withdrawn');
    } finally {
      await context.close();
    }
  });
});

describe('a GP and a receiving team', () => {
  it('refer through the practice worklist and accept through the triage queue; another practice sees a 404 page', async () => {
    const gp = await personPage();
    const team = await personPage();
    const other = await personPage();
    try {
      await signIn(gp.page, 'gp', 'A81001');
      expect(gp.page.url()).toBe(`${CONSOLE_URL}/worklist`);
      await checkPage(gp.page, 'gp-worklist');
      await gp.page.getByRole('link', { name: 'New referral', exact: true }).first().click();
      await gp.page.getByLabel("Patient's NHS number").fill(randomTestNhsNumber());
      await gp.page.getByLabel("Patient's name").fill('Worklist Walk');
      await gp.page.getByLabel("Patient's email address").fill(`worklist-${uniqueSuffix()}@patients.example`);
      await gp.page.getByLabel('Team that gave the first opinion (directory id)').fill('RJ122-CARD');
      await gp.page.getByLabel('Specialty').fill('cardiology');
      await gp.page.getByLabel('Why the patient wants a second opinion').fill('Wants a second view on the treatment plan.');
      await checkPage(gp.page, 'gp-new-referral');
      await gp.page.getByRole('button', { name: 'Send the request' }).click();
      const referralId = /\/worklist\/referrals\/([0-9a-f-]{36})$/.exec(gp.page.url())?.[1];
      expect(referralId).toBeDefined();

      // The workflow records the request, then the GP's decision is due: reload until the page offers it.
      await eventually(
        async () => {
          await gp.page.reload();
          return (await gp.page.locator('#decision-refer').count()) > 0 ? true : undefined;
        },
        60_000,
        1_000,
      );
      await checkPage(gp.page, 'gp-referral');
      await gp.page.getByLabel('Team to give the second opinion').selectOption('RTH01-CARD');
      await gp.page.getByRole('button', { name: 'Refer to this team' }).click();
      expect(await gp.page.locator('.nhsuk-summary-list').textContent()).toContain('awaiting-triage');

      await signIn(team.page, 'clinician', 'RTH');
      expect(team.page.url()).toBe(`${CONSOLE_URL}/worklist`);
      await eventually(
        async () => {
          await team.page.reload();
          return (await team.page.locator(`tr[data-referral="${referralId}"]`).count()) > 0 ? true : undefined;
        },
        30_000,
        1_000,
      );
      await checkPage(team.page, 'team-triage-queue');
      await team.page.locator(`tr[data-referral="${referralId}"]`).getByRole('link').click();
      await team.page.getByRole('button', { name: 'Accept', exact: true }).click();
      expect(await team.page.locator('.nhsuk-summary-list').textContent()).toContain('accepted');
      await checkPage(team.page, 'team-referral-accepted');
      // The rest of the team's path: the appointment (UK time), then the opinion; each offered only when allowed.
      const nextWeek = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
      await team.page.getByLabel('Appointment (UK time)').fill(`${nextWeek}T10:30`);
      await team.page.getByRole('button', { name: 'Book the appointment' }).click();
      expect(await team.page.locator('.nhsuk-summary-list').textContent()).toContain('appointment-booked');
      expect(await team.page.getByRole('button', { name: 'Book the appointment' }).count()).toBe(1); // rebooking stays possible
      await team.page.getByLabel('The second opinion').selectOption('partially-differs');
      await team.page
        .getByLabel('Summary of the opinion (sent to the patient and the GP)')
        .fill('Agree with the diagnosis; suggest a different dose.');
      await team.page.getByRole('button', { name: 'Give the second opinion' }).click();
      expect(await team.page.locator('.nhsuk-summary-list').textContent()).toContain('opinion-issued');
      await checkPage(team.page, 'team-referral-opinion');

      await signIn(other.page, 'gp', 'A81002');
      const res = await other.page.goto(`${CONSOLE_URL}/worklist/referrals/${referralId}`);
      expect(res?.status()).toBe(404);
      expect(await other.page.getByRole('heading', { level: 1 }).textContent()).toBe('Page not found');
      expect(await other.page.content()).not.toContain('Worklist Walk');
      expect(
        await other.page
          .locator('#worklist')
          .textContent()
          .catch(() => ''),
      ).not.toContain(referralId!);
    } finally {
      await Promise.all([gp.context.close(), team.context.close(), other.context.close()]);
    }
  });

  it('shows "this referral has changed" for a decision on a stale page, and changes nothing', async () => {
    const referralId = await referralInGpReview();
    const { context, page } = await personPage();
    try {
      await signIn(page, 'gp', 'A81001');
      await page.goto(`${CONSOLE_URL}/worklist/referrals/${referralId}`);
      // Meanwhile the referral moves on (the original team is told), so the page's version is stale.
      const informed = await fetch(`${api.referral}/v1/referrals/${referralId}/inform-original-team`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID(), ...(await tokens.bearer('gp', 'A81001')) },
        body: '{}',
      });
      expect(informed.status).toBe(200);
      await page.getByLabel('Reason (told to the patient)').fill('Not appropriate at this time.');
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/decide')),
        page.getByRole('button', { name: 'Decline' }).click(),
      ]);
      expect(response.status()).toBe(409);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('This referral has changed');
      await checkPage(page, 'stale-referral');
      const r = await fetch(`${api.referral}/v1/referrals/${referralId}`, { headers: await tokens.bearer('gp', 'A81001') });
      expect(((await r.json()) as { state: string }).state).toBe('gp-review');
    } finally {
      await context.close();
    }
  });
});
