import { sanitizeSqlText } from './sql-text';

describe('sanitizeSqlText (what a span may say of a statement)', () => {
  it.each([
    [
      `insert into "patient" ("id", "nhs_number", "name") values ('9b99adee-5d22', '9991299041', 'Quillon O''Brien')`,
      `insert into "patient" ("id", "nhs_number", "name") values (?, ?, ?)`,
    ],
    [
      `select * from referral where attempt = 2 and score > -1.5e3 limit 10`,
      `select * from referral where attempt = ? and score > ? limit ?`,
    ],
    [
      `update t set note = E'line\\nnext', body = $tag$it's 07700 900123$tag$ where id = $1`,
      `update t set note = ?, body = ? where id = $1`,
    ],
    [
      `select audit_entry_2026.seq from audit_entry_2026 where "col1" = 'x'`,
      `select audit_entry_2026.seq from audit_entry_2026 where "col1" = ?`,
    ],
  ])('%s', (sql, expected) => {
    expect(sanitizeSqlText(sql)).toBe(expected);
  });

  it('leaves no digit run or quoted value of a patient behind', () => {
    const out = sanitizeSqlText(`insert into p values ('9991299041', 'a@b.example', '07700 931467', 9991299041)`);
    expect(out).not.toMatch(/9991299041|a@b|07700/);
  });
});
