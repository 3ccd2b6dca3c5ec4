import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/** The repository root (this file is libs/testing/src/hospitals.ts). */
export const REPO_ROOT = resolve(__dirname, '../../..');

interface TrustJson {
  ods: string;
  fhir: { tenant: string; username: string; password: string };
  pacs: { httpPort: number; dicomPort: number; aet: string; username: string; password: string };
}

/** The demo trusts' EHR (HAPI FHIR partition) and PACS (Orthanc) as infra/local starts them. */
export function demoHospitals(): { fhirBase: (ods: string) => string; trust: (ods: string) => TrustJson } {
  const h = JSON.parse(readFileSync(join(REPO_ROOT, 'infra/local/hospitals/hospitals.json'), 'utf8')) as {
    fhir: { port: number; basePath: string };
    trusts: TrustJson[];
  };
  const port = Number(process.env.FHIR_PORT ?? h.fhir.port);
  return {
    fhirBase: (ods) => `http://127.0.0.1:${port}${h.fhir.basePath}/${ods}`,
    trust: (ods) => {
      const t = h.trusts.find((x) => x.ods === ods);
      if (!t) throw new Error(`no demo trust ${ods}`);
      return t;
    },
  };
}

export const basicAuth = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/** Toxiproxy's HTTP API (infra/local/toxiproxy.sh): TCP proxies in front of the hospitals' servers, with faults on demand. */
export class Toxiproxy {
  constructor(readonly api = `http://127.0.0.1:${process.env.TOXIPROXY_PORT ?? 8474}`) {}

  /** A proxy on a free port in front of `upstream` (host:port); returns its listen address. */
  async proxy(name: string, upstream: string): Promise<{ name: string; listen: string }> {
    await fetch(`${this.api}/proxies/${name}`, { method: 'DELETE' });
    const res = await fetch(`${this.api}/proxies`, {
      method: 'POST',
      body: JSON.stringify({ name, listen: '127.0.0.1:0', upstream, enabled: true }),
    });
    if (!res.ok) throw new Error(`toxiproxy: creating ${name} answered ${res.status} ${await res.text()}`);
    const p = (await res.json()) as { name: string; listen: string };
    return { name: p.name, listen: p.listen };
  }

  async addToxic(
    proxy: string,
    toxic: { name: string; type: string; stream?: 'upstream' | 'downstream'; toxicity?: number; attributes: Record<string, number> },
  ): Promise<void> {
    const res = await fetch(`${this.api}/proxies/${proxy}/toxics`, {
      method: 'POST',
      body: JSON.stringify({ stream: 'downstream', toxicity: 1, ...toxic }),
    });
    if (!res.ok) throw new Error(`toxiproxy: adding ${toxic.name} answered ${res.status} ${await res.text()}`);
  }

  async removeToxic(proxy: string, name: string): Promise<void> {
    await fetch(`${this.api}/proxies/${proxy}/toxics/${name}`, { method: 'DELETE' });
  }

  /** Disabled, a proxy closes its connections and refuses new ones: the server behind it is unreachable. */
  async setEnabled(proxy: string, enabled: boolean): Promise<void> {
    const res = await fetch(`${this.api}/proxies/${proxy}`, { method: 'POST', body: JSON.stringify({ enabled }) });
    if (!res.ok) throw new Error(`toxiproxy: ${enabled ? 'enabling' : 'disabling'} ${proxy} answered ${res.status} ${await res.text()}`);
  }

  async remove(proxy: string): Promise<void> {
    await fetch(`${this.api}/proxies/${proxy}`, { method: 'DELETE' });
  }
}

/**
 * An HTTP hop that forwards every request to `upstream` unchanged, except while told to answer an error status (503:
 * a hospital's gateway during maintenance; 403: credentials revoked). TCP-level faults come from Toxiproxy; this adds
 * the HTTP statuses Toxiproxy cannot.
 */
export class HttpFaultSwitch {
  private server: Server | undefined;
  private failing = 0;
  private status = 503;
  /** Requests answered with an error so far. */
  refused = 0;

  constructor(private readonly upstream: { host: string; port: number }) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      if (this.failing > 0) {
        this.failing--;
        this.refused++;
        req.resume();
        res
          .writeHead(this.status, { 'content-type': 'text/plain', 'retry-after': '1' })
          .end(this.status === 503 ? 'service unavailable' : 'refused');
        return;
      }
      const out = httpRequest(
        { host: this.upstream.host, port: this.upstream.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      req.pipe(out);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const a = this.server.address() as { port: number };
    return `127.0.0.1:${a.port}`;
  }

  /** The next `n` requests are answered `status` (503 unless said). */
  fail(n: number, status = 503): void {
    this.failing = n;
    this.status = status;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const run = promisify(execFile);

/** Generates a synthetic CT study (infra/local/hospitals/seed-pacs.mjs) and stores it in a PACS with STOW-RS. */
export async function seedDicomStudy(o: {
  studyUid: string;
  nhsNumber: string;
  slices: number;
  pacs: { port: number; user: string; password: string };
}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sonet-dicom-'));
  const script = join(REPO_ROOT, 'infra/local/hospitals/seed-pacs.mjs');
  try {
    await run(
      process.execPath,
      [script, 'generate', '--study-uid', o.studyUid, '--patient', o.nhsNumber, '--slices', String(o.slices), '--out', dir],
      { maxBuffer: 1 << 24 },
    );
    await run(
      process.execPath,
      [script, 'upload', '--dir', dir, '--port', String(o.pacs.port), '--user', o.pacs.user, '--password', o.pacs.password],
      { maxBuffer: 1 << 24 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const sha256Of = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** A small but real PDF with one line of text. */
export function minimalPdf(text: string): Buffer {
  const stream = `BT /F1 12 Tf 72 720 Td (${text.replace(/[()\\]/g, '')}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
