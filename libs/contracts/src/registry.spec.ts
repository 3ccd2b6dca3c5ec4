import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Events } from './catalogue';
import { createEnvelope } from './envelope';
import { nhsNumberSchema } from './identifiers';
import { defineEvent, EventRegistry } from './registry';
import { dlqTopicOf, TopicCatalogue, Topics, type TopicName } from './topics';

const def = (type: string) =>
  defineEvent({ type, topic: 'test.v1' as TopicName, description: 'test', schema: z.object({ nhsNumber: nhsNumberSchema }) });

describe('event definitions and registry', () => {
  it('refuses a type without a major version', () => {
    expect(() => def('test.thing-happened')).toThrow('must end in .vN');
  });

  it('refuses the same type defined twice', () => {
    expect(() => new EventRegistry([def('test.a.v1'), def('test.a.v1')])).toThrow('test.a.v1 is defined twice');
  });

  it('parses data against the schema of its type and returns the output', () => {
    const r = new EventRegistry([def('test.a.v1')]);
    expect(r.parse('test.a.v1', { nhsNumber: '943 476 5919' })).toEqual({ ok: true, data: { nhsNumber: '9434765919' } });
  });

  it('says why data does not parse, without repeating the value', () => {
    const r = new EventRegistry([def('test.a.v1')]).parse('test.a.v1', { nhsNumber: '9434765918' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toMatch(/not a valid NHS number[\s\S]*→ at nhsNumber/);
      expect(r.reason).not.toContain('9434765918');
    }
  });

  it('says an unknown type is unknown', () => {
    expect(new EventRegistry([]).parse('test.b.v1', {})).toEqual({ ok: false, reason: 'unknown event type test.b.v1' });
  });
});

describe('the network catalogue', () => {
  it.each(Events.all().map((d) => [d.type, d]))('%s travels on a declared topic that has a dead-letter topic', (_t, d) => {
    const names = TopicCatalogue.map((t) => t.name);
    expect(Object.values(Topics)).toContain(d.topic);
    expect(names).toContain(d.topic);
    expect(names).toContain(dlqTopicOf(d.topic));
  });

  it.each(Events.all().map((d) => [d.type]))('%s is a type a CloudEvents envelope accepts', (type) => {
    expect(() => createEnvelope({ id: randomUUID(), type, source: 's', subject: randomUUID(), data: {} })).not.toThrow();
  });

  it('declares every topic once', () => {
    const names = TopicCatalogue.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
