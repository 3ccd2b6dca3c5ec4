import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { integrationSettings } from '@sonet/testing';
import { copyOut, int32 } from './copy-out';

/** BinaryCopyOut against the real PostgreSQL: rows of every size, a server error mid-COPY, and a failing sink. */
describe('binary COPY off the socket (real PostgreSQL)', () => {
  let client: Client;
  beforeAll(async () => {
    client = new Client({ ...integrationSettings().pg, database: 'postgres' });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
  });

  // Rows from 0 bytes to ~190 KB, so frames straddle socket chunks in every way.
  const rowsSql = `select g, convert_to(repeat(md5(g::text), (g * 7919) % 6000), 'UTF8') as body from generate_series(1, 4000) g`;

  it('delivers every tuple, byte for byte, in order', async () => {
    const digest = createHash('sha256');
    const order: number[] = [];
    const n = await copyOut(client, `copy (${rowsSql} order by g) to stdout (format binary)`, (buf, pos, end) => {
      order.push(int32(buf, pos + 6)); // field 1: int4, after the field count (2) and its length (4)
      const length = int32(buf, pos + 10);
      expect(pos + 14 + length).toBe(end);
      digest.update(buf.subarray(pos + 14, end));
    });
    expect(n).toBe(4000);
    expect(order).toEqual(Array.from({ length: 4000 }, (_, i) => i + 1));
    const expected = createHash('sha256');
    const { rows } = await client.query<{ body: Buffer }>(`${rowsSql} order by g`);
    for (const r of rows) expected.update(r.body);
    expect(digest.digest('hex')).toBe(expected.digest('hex'));
  }, 240_000); // about 380 MB through COPY and again through a query: slow when the machine is busy, and not a timing test

  it('rejects with the server error when the query fails mid-COPY, and the connection stays usable', async () => {
    let seen = 0;
    await expect(
      copyOut(client, 'copy (select 1 / (2500 - g) from generate_series(1, 5000) g) to stdout (format binary)', () => seen++),
    ).rejects.toThrow('division by zero');
    expect(seen).toBeLessThan(2500);
    expect((await client.query('select 41 + 1 as x')).rows).toEqual([{ x: 42 }]);
  });

  it('refuses a statement that is not a COPY TO STDOUT, and the connection stays usable', async () => {
    await expect(copyOut(client, 'select 1', () => undefined)).rejects.toThrow('not a COPY TO STDOUT');
    await expect(
      copyOut(client, 'create temp table copy_in_target (x int); copy copy_in_target from stdin', () => undefined),
    ).rejects.toThrow();
    expect((await client.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
  });

  it('rejects with the sink error after reading to the end, and the connection stays usable', async () => {
    let calls = 0;
    const failing = copyOut(client, `copy (${rowsSql}) to stdout (format binary)`, () => {
      calls++;
      if (calls === 10) throw new Error('cannot take row 10');
    });
    await expect(failing).rejects.toThrow('cannot take row 10');
    expect(calls).toBe(10);
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });
});
