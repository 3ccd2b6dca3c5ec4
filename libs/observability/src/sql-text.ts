/**
 * SQL text as spans may carry it: every literal replaced by `?`. MikroORM writes values into the statements it
 * sends (names, NHS numbers, addresses), and the pg instrumentation records the statement as `db.query.text`;
 * the OpenTelemetry conventions ask for it sanitised. Quoted strings (with '' escapes, E'' and dollar quotes) and
 * numbers go; identifiers, keywords and placeholders stay, so the statement's shape still shows what ran.
 */
export function sanitizeSqlText(sql: string): string {
  return sql
    .replace(/\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g, '?')
    .replace(/[Ee]?'(?:[^']|'')*'/g, '?')
    .replace(/(?<![\w$."])-?\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b(?!["\w])/g, '?');
}
