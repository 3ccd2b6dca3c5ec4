import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { odsCodeSchema } from '@sonet/contracts';

const authSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('basic'), username: z.string().min(1), password: z.string().min(1) }),
  z.object({ type: z.literal('bearer'), token: z.string().min(1) }),
  z.object({ type: z.literal('none') }),
]);
export type ConnectorAuth = z.infer<typeof authSchema>;

const endpointSchema = z.object({
  /** e.g. `https://ehr.example.nhs.uk/fhir/RJ1` or `https://pacs.example.nhs.uk/dicom-web` (no trailing slash needed). */
  baseUrl: z.url().transform((u) => u.replace(/\/+$/, '')),
  auth: authSchema.default({ type: 'none' }),
  /** One request's time limit (a stream's limit is its idle time: no byte for this long). */
  timeoutMs: z.number().int().positive().default(60_000),
});
export type EndpointConfig = z.infer<typeof endpointSchema>;

const limitsSchema = z.object({
  /** Largest single document, or imaging study, sent; larger ones are refused and reported. */
  maxItemBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 ** 3),
  /** Media types of documents that may be sent (imaging is always `application/dicom`). */
  mediaTypes: z
    .array(z.string().min(1))
    .default(['application/pdf', 'text/plain', 'text/html', 'image/jpeg', 'image/png', 'application/fhir+json', 'application/dicom']),
  /** Instances of a study stored at once (WADO-RS → STOW-RS streams in flight). */
  imagingConcurrency: z.number().int().min(1).max(32).default(4),
});
export type ConnectorLimits = z.infer<typeof limitsSchema>;

/** How the receiver confirms an item: read it back and compare its SHA-256 (default), or trust the store's receipt. */
const verifySchema = z.enum(['read-back', 'receipt']).default('read-back');

const trustSchema = z.object({
  /** The trust's ODS code; its sites (e.g. RJ122 under RJ1) use the same systems. */
  ods: odsCodeSchema,
  name: z.string().optional(),
  fhir: endpointSchema,
  dicomweb: endpointSchema,
  limits: limitsSchema.default(limitsSchema.parse({})),
  verify: verifySchema,
});
export type TrustConnectorConfig = z.infer<typeof trustSchema>;

export const connectorsFileSchema = z.object({ trusts: z.array(trustSchema).min(1) }).strict();
export type ConnectorsConfig = z.infer<typeof connectorsFileSchema>;

/** Reads and validates the connectors file; the error names the bad fields, never their values (they hold secrets). */
export function readConnectorsConfig(source: { json?: string | undefined; file?: string | undefined }): ConnectorsConfig {
  const text = source.json ?? (source.file ? readFileSync(source.file, 'utf8') : undefined);
  if (!text) throw new Error('records-transfer needs its hospital connectors: set RECORDS_CONNECTORS_FILE or RECORDS_CONNECTORS_JSON');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('the hospital connectors configuration is not valid JSON');
  }
  const r = connectorsFileSchema.safeParse(raw);
  if (!r.success)
    throw new Error(
      `invalid hospital connectors configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return r.data;
}
