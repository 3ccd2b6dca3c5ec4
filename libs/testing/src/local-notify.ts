import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './hospitals';
import { freePort } from './ports';

/** The local Notify server's development service, key and templates (infra/local/notify/templates.mjs). */
export const LOCAL_NOTIFY = {
  apiKey: 'sonet_local-c2676a2c-397a-41a9-8f39-bbd7ece41446-4cc1f426-3f6e-4508-a07f-1dbc6bb6566d',
  callbackToken: 'local-notify-callback-token-development-only',
  templates: {
    sms: '9c2ff95d-744a-4742-9a00-a2ad5a079da0',
    email: 'cc208341-0481-4d1f-86d3-58b4b864cd18',
    letter: '1cd9b4f6-33a7-4a7b-a7cf-630e2faf844e',
  },
  /** Notify's simulator numbers: delivered, permanent failure, temporary failure. */
  numbers: { delivered: '+447700900001', permanentFailure: '+447700900002', temporaryFailure: '+447700900003' },
} as const;

/** A message the local Notify server accepted (its JSON API's shape). */
export interface NotifyInboxMessage {
  id: string;
  reference: string | null;
  type: 'sms' | 'email' | 'letter';
  phone_number?: string;
  email_address?: string;
  line_1?: string;
  postcode?: string;
  status: string;
  template?: { id: string; version: number };
  body: string;
  subject: string | null;
  created_at: string;
}

export interface LocalNotifyOptions {
  readonly callbackUrl?: string;
  readonly ratePerWindow?: number;
  readonly rateWindowSeconds?: number;
  readonly dailyLimit?: number;
  readonly receiptDelayMs?: number;
  /** Answer each send this long after accepting it (a slow Notify): a client killed meanwhile never hears of it. */
  readonly responseDelayMs?: number;
  /** Templates beyond the three generic ones (a deployment's per-message templates), as NOTIFY_TEMPLATES_FILE holds them. */
  readonly templates?: readonly { id: string; type: 'sms' | 'email' | 'letter'; subject?: string; body: string }[];
}

/** The local Notify server (infra/local/notify/server.mjs) as a child process on its own port, for one test suite. */
export class LocalNotifyServer {
  private child?: ChildProcess;
  private constructor(readonly port: number) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async reserve(): Promise<LocalNotifyServer> {
    return new LocalNotifyServer(await freePort());
  }

  async start(o: LocalNotifyOptions = {}): Promise<void> {
    const env = {
      ...process.env,
      NOTIFY_PORT: String(this.port),
      NOTIFY_CALLBACK_URL: o.callbackUrl ?? '',
      NOTIFY_CALLBACK_TOKEN: LOCAL_NOTIFY.callbackToken,
      NOTIFY_RATE_LIMIT_PER_MINUTE: String(o.ratePerWindow ?? 3000),
      NOTIFY_RATE_WINDOW_SECONDS: String(o.rateWindowSeconds ?? 60),
      NOTIFY_DAILY_LIMIT: String(o.dailyLimit ?? 250_000),
      NOTIFY_RECEIPT_DELAY_MS: String(o.receiptDelayMs ?? 100),
      NOTIFY_RESPONSE_DELAY_MS: String(o.responseDelayMs ?? 0),
      NOTIFY_TEMPLATES_FILE: '',
    };
    if (o.templates) {
      const dir = mkdtempSync(join(tmpdir(), 'local-notify-'));
      env.NOTIFY_TEMPLATES_FILE = join(dir, 'templates.json');
      writeFileSync(env.NOTIFY_TEMPLATES_FILE, JSON.stringify(o.templates));
    }
    const child = spawn(process.execPath, [join(REPO_ROOT, 'infra/local/notify/server.mjs')], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
      process.stderr.write(chunk);
    });
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `the local Notify server exited (${child.signalCode ?? `code ${child.exitCode}`}) before it answered on ${this.baseUrl}\n${stderr}`,
        );
      }
      if (await this.healthy()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the local Notify server did not start on ${this.baseUrl}\n${stderr}`);
  }

  private async healthy(): Promise<boolean> {
    try {
      return (await fetch(`${this.baseUrl}/_status`)).ok;
    } catch {
      return false;
    }
  }

  /** What it accepted, oldest first; with a reference, only that notification's messages. */
  async messages(reference?: string): Promise<NotifyInboxMessage[]> {
    const res = await fetch(`${this.baseUrl}/api/messages${reference ? `?reference=${encodeURIComponent(reference)}` : ''}`);
    return (await res.json()) as NotifyInboxMessage[];
  }

  async stats(): Promise<{ accepted: number; rejected: number; rateLimited: number; receiptsSent: number; messages: number }> {
    return (await (await fetch(`${this.baseUrl}/api/stats`)).json()) as never;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}
