import { z } from 'zod';
import { nhsNumberSchema, odsCodeSchema } from '@sonet/contracts';
import { Problem } from './problem';
import { parseOrProblem } from './zod-body';

const schema = z
  .object({
    nhsNumber: nhsNumberSchema,
    practice: odsCodeSchema,
    email: z.email(),
    urgency: z.enum(['routine', 'urgent']),
    age: z.number().int(),
    patient: z.object({ name: z.string().min(1).max(5) }),
  })
  .strict();

const problemOf = (fn: () => unknown): Problem => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Problem);
    return e as Problem;
  }
  throw new Error('expected a Problem, nothing was thrown');
};

describe('parseOrProblem', () => {
  describe('when the input is valid', () => {
    it('returns the parsed (normalised) output', () => {
      const out = parseOrProblem(schema, {
        nhsNumber: '943 476 5919',
        practice: 'a81001',
        email: 'p@example.org',
        urgency: 'routine',
        age: 40,
        patient: { name: 'Ann' },
      });
      expect(out).toMatchObject({ nhsNumber: '9434765919', practice: 'A81001' });
    });
  });

  describe('when the input is invalid', () => {
    const secrets = {
      nhsNumber: '943 476 5918',
      practice: 'SECRET-ODS-1',
      email: 'SECRET-EMAIL-2',
      urgency: 'SECRET-URGENCY-3',
      age: 'SECRET-AGE-4',
      patient: { name: 'SECRET-NAME-5' },
    };

    it('throws a 400 validation problem naming every invalid field by its path', () => {
      const p = problemOf(() => parseOrProblem(schema, secrets));
      expect(p.status).toBe(400);
      expect(p.body).toMatchObject({
        type: 'urn:sonet:problem:validation',
        title: 'Invalid request',
        status: 400,
        detail: 'The request body is not valid.',
      });
      const params = p.body['invalid-params'] as { name: string; reason: string }[];
      expect(params.map((i) => i.name).sort()).toEqual(['age', 'email', 'nhsNumber', 'patient.name', 'practice', 'urgency']);
      for (const i of params) expect(i.reason).toEqual(expect.any(String));
    });

    it('never echoes the submitted values', () => {
      const p = problemOf(() => parseOrProblem(schema, secrets));
      const text = JSON.stringify(p.body) + p.message;
      expect(text).not.toMatch(/SECRET/);
      expect(text).not.toContain('5918');
    });

    it('names what was being parsed in the detail', () => {
      const p = problemOf(() => parseOrProblem(schema, {}, 'query string'));
      expect(p.body.detail).toBe('The query string is not valid.');
    });

    it('names the body itself when the input is not an object', () => {
      const p = problemOf(() => parseOrProblem(schema, 'SECRET-STRING'));
      expect(p.body['invalid-params']).toEqual([{ name: '(body)', reason: expect.any(String) }]);
      expect(JSON.stringify(p.body)).not.toContain('SECRET');
    });

    it('names an unexpected key but not its value', () => {
      const valid = {
        nhsNumber: '9434765919',
        practice: 'A81001',
        email: 'p@example.org',
        urgency: 'urgent',
        age: 1,
        patient: { name: 'Ann' },
      };
      const p = problemOf(() => parseOrProblem(schema, { ...valid, extra: 'SECRET-EXTRA' }));
      expect(p.body['invalid-params']).toEqual([{ name: 'extra', reason: 'not a field this request takes' }]);
      expect(JSON.stringify(p.body)).not.toContain('SECRET');
    });
  });
});
