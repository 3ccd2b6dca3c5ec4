import { z } from 'zod';
import { Events } from './catalogue';
import { TopicCatalogue } from './topics';

const jsonSchemaOf = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });

/** AsyncAPI 3.0 document of every topic and event type, generated from the zod schemas. */
export function asyncApiDocument(): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const t of TopicCatalogue) {
    const msgs = Events.all().filter((e) => e.topic === t.name);
    const channelId = t.name.replace(/\./g, '_');
    channels[channelId] = {
      address: t.name,
      description: t.description,
      messages: Object.fromEntries(
        msgs.map((m) => [m.type.replace(/\./g, '_'), { $ref: `#/components/messages/${m.type.replace(/\./g, '_')}` }]),
      ),
      bindings: { kafka: { partitions: t.partitions, topicConfiguration: { 'retention.ms': t.retentionMs } } },
    };
    if (msgs.length) {
      operations[`publish_${channelId}`] = { action: 'send', channel: { $ref: `#/channels/${channelId}` } };
    }
    for (const m of msgs) {
      messages[m.type.replace(/\./g, '_')] = {
        name: m.type,
        title: m.type,
        summary: m.description,
        contentType: 'application/json',
        headers: {
          type: 'object',
          required: ['ce_specversion', 'ce_id', 'ce_type', 'ce_source', 'ce_subject', 'ce_time'],
          properties: {
            ce_specversion: { const: '1.0' },
            ce_id: { type: 'string', format: 'uuid' },
            ce_type: { const: m.type },
            ce_source: { type: 'string' },
            ce_subject: { type: 'string', format: 'uuid', description: 'the referral id; also the Kafka key' },
            ce_time: { type: 'string', format: 'date-time' },
            traceparent: { type: 'string', description: 'W3C trace context' },
          },
        },
        payload: jsonSchemaOf(m.schema),
        bindings: { kafka: { key: { type: 'string', format: 'uuid', description: 'referral id' } } },
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Second-opinion network events',
      version: '1.0.0',
      description: 'CloudEvents 1.0 in Kafka binary mode. Generated from libs/contracts; do not edit by hand.',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages },
  };
}

/** docs/events.md: the event catalogue for people. */
export function eventCatalogueMarkdown(): string {
  const lines = [
    '# Event catalogue',
    '',
    '_Generated from `libs/contracts` by `npm run events:docs`; do not edit by hand. A test fails when this file is out of date._',
    '',
    'Every event is a CloudEvents 1.0 message in Kafka binary mode: attributes in `ce_*` headers, the JSON data as the body,',
    'W3C `traceparent` beside them. The Kafka key is the referral id (`ce_subject`), never an NHS number. The machine-readable',
    'form is [asyncapi.json](asyncapi.json).',
    '',
    '## Topics',
    '',
    '| topic | partitions | retention (days) | what travels on it |',
    '| --- | --- | --- | --- |',
    ...TopicCatalogue.map((t) => `| \`${t.name}\` | ${t.partitions} | ${t.retentionMs / 86_400_000} | ${t.description} |`),
    '',
    '## Event types',
    '',
  ];
  for (const e of Events.all()) {
    const schema = jsonSchemaOf(e.schema) as { properties?: Record<string, { description?: string; type?: unknown }>; required?: string[] };
    lines.push(
      `### \`${e.type}\``,
      '',
      `Topic \`${e.topic}\`. ${e.description}`,
      '',
      '| field | required | description |',
      '| --- | --- | --- |',
    );
    for (const [name, prop] of Object.entries(schema.properties ?? {})) {
      const required = schema.required?.includes(name) ? 'yes' : 'no';
      lines.push(`| \`${name}\` | ${required} | ${prop.description ?? ''} |`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

/** k8s/platform/kafka-topics.yaml: Strimzi KafkaTopic resources for every topic of the catalogue. */
export function strimziTopicsYaml(): string {
  const docs = TopicCatalogue.map(
    (t) => `apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaTopic
metadata:
  name: ${t.name.replace(/\./g, '-')}
  labels:
    strimzi.io/cluster: sonet
spec:
  topicName: ${t.name}
  partitions: ${t.partitions}
  replicas: 3
  config:
    retention.ms: ${t.retentionMs}
    cleanup.policy: delete
    min.insync.replicas: 2
`,
  );
  return `# Generated from libs/contracts by \`npm run events:docs\`; do not edit by hand.\n${docs.join('---\n')}`;
}
