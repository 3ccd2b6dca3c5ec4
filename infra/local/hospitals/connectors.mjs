// Writes the records-transfer service's hospital connectors file for the local demo trusts, from hospitals.json:
// each trust's FHIR partition and DICOMweb PACS with their development credentials. A deployment writes its own
// file (see services/records-transfer/README.md); nothing here is used outside a developer's machine.
//   node infra/local/hospitals/connectors.mjs <out.json>
import { mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const hospitals = JSON.parse(readFileSync(join(here, 'hospitals.json'), 'utf8'));
const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: connectors.mjs <out.json>\n');
  process.exit(2);
}
const fhirPort = Number(process.env.FHIR_PORT ?? hospitals.fhir.port);
const config = {
  trusts: hospitals.trusts.map((t) => ({
    ods: t.ods,
    name: t.name,
    fhir: {
      baseUrl: `http://127.0.0.1:${fhirPort}${hospitals.fhir.basePath}/${t.fhir.tenant}`,
      auth: { type: 'basic', username: t.fhir.username, password: t.fhir.password },
      timeoutMs: 60000,
    },
    dicomweb: {
      baseUrl: `http://127.0.0.1:${t.pacs.httpPort}/dicom-web`,
      auth: { type: 'basic', username: t.pacs.username, password: t.pacs.password },
      timeoutMs: 120000,
    },
  })),
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(config, null, 2)}\n`);
chmodSync(out, 0o600);
