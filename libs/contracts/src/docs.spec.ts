import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncApiDocument, eventCatalogueMarkdown, strimziTopicsYaml } from './docs';
import { Events } from './catalogue';

const docsDir = join(__dirname, '../../../docs');

describe('the event catalogue in docs/', () => {
  it('matches libs/contracts (run `npm run events:docs` after changing an event)', () => {
    expect(readFileSync(join(docsDir, 'events.md'), 'utf8')).toBe(eventCatalogueMarkdown());
    expect(JSON.parse(readFileSync(join(docsDir, 'asyncapi.json'), 'utf8'))).toEqual(asyncApiDocument());
    expect(readFileSync(join(docsDir, '../k8s/platform/kafka-topics.yaml'), 'utf8')).toBe(strimziTopicsYaml());
  });

  it('documents every event type with its topic', () => {
    const doc = asyncApiDocument() as { components: { messages: Record<string, { name: string }> } };
    expect(
      Object.values(doc.components.messages)
        .map((m) => m.name)
        .sort(),
    ).toEqual(
      Events.all()
        .map((e) => e.type)
        .sort(),
    );
  });
});
