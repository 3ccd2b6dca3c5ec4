// Writes docs/events.md and docs/asyncapi.json from libs/contracts (after `npm run build`).
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { asyncApiDocument, eventCatalogueMarkdown, strimziTopicsYaml } = require(join(root, 'dist/libs/contracts/src/docs.js'));
writeFileSync(join(root, 'docs/events.md'), eventCatalogueMarkdown());
writeFileSync(join(root, 'docs/asyncapi.json'), `${JSON.stringify(asyncApiDocument(), null, 2)}\n`);
writeFileSync(join(root, 'k8s/platform/kafka-topics.yaml'), strimziTopicsYaml());
process.stderr.write('wrote docs/events.md, docs/asyncapi.json and k8s/platform/kafka-topics.yaml\n');
