import { createHash } from 'node:crypto';

/**
 * One digest for an imaging study: SHA-256 over its instances' digests, one line `<SOP Instance UID> <sha256>\n`
 * each, in SOP Instance UID order. Anyone holding the study's files can recompute it (the service README shows how).
 */
export function studyDigest(instances: readonly { sopInstanceUid: string; sha256: string }[]): string {
  const h = createHash('sha256');
  for (const i of [...instances].sort((a, b) => (a.sopInstanceUid < b.sopInstanceUid ? -1 : a.sopInstanceUid > b.sopInstanceUid ? 1 : 0))) {
    h.update(`${i.sopInstanceUid} ${i.sha256}\n`);
  }
  return h.digest('hex');
}
