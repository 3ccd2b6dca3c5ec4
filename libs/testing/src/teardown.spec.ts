import { teardown } from './teardown';

describe('teardown', () => {
  it('runs every step in order, even after one fails', async () => {
    const ran: string[] = [];
    const warnings: string[] = [];
    const left = await teardown(
      [
        ['a', () => ran.push('a')],
        [
          'b',
          async () => {
            ran.push('b');
            throw new Error('broken');
          },
        ],
        ['c', () => ran.push('c')],
      ],
      { warn: (m) => warnings.push(m) },
    );
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(left).toEqual([]);
    expect(warnings).toEqual(['teardown: b failed: broken']);
  });

  it('leaves a step that overruns its budget behind and goes on', async () => {
    const ran: string[] = [];
    const warnings: string[] = [];
    const started = Date.now();
    const left = await teardown(
      [
        ['hangs', () => new Promise(() => undefined)],
        ['after', () => ran.push('after')],
      ],
      { perStepMs: 50, warn: (m) => warnings.push(m) },
    );
    expect(left).toEqual(['hangs']);
    expect(ran).toEqual(['after']);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(warnings[0]).toMatch(/hangs still running after 50 ms/);
  });
});
