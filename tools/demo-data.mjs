// Demo data for a freshly started network: a few second-opinion requests from GP practices in a
// fictional region, sent through the public API exactly as a GP system would. Runs once per state
// directory (a marker in .local/state/demo), so restarting the network does not add duplicates.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { mintDevToken } = require(join(root, 'dist/libs/auth/src/dev-issuer.js'));
const marker = join(root, '.local/state/demo/seeded');
const api = `http://127.0.0.1:${process.env.REFERRAL_HTTP_PORT ?? 8081}`;

/** NHS numbers in the 999 test range with a valid Modulus 11 check digit (never real patients). */
function testNhsNumber(seed) {
  for (let n = seed; ; n++) {
    const nine = `999${String(n).padStart(6, '0')}`;
    const sum = [...nine].reduce((s, d, i) => s + Number(d) * (10 - i), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return `${nine}${check === 11 ? 0 : check}`;
  }
}

const demo = [
  {
    patient: { nhsNumber: testNhsNumber(100001), name: 'Aisha Rahman', email: 'aisha.rahman@patients.example', preferredChannel: 'email' },
    practice: 'A81001',
    originalTeamId: 'RJ122-CARD',
    specialty: 'cardiology',
    reason: 'Would like another view on whether surgery is needed for her valve disease before agreeing to it.',
    urgency: 'routine',
    explainedByOriginalTeam: true,
    recordsSharingConsent: true,
  },
  {
    patient: {
      nhsNumber: testNhsNumber(200002),
      name: 'Tom Whitfield',
      email: 'tom.whitfield@patients.example',
      preferredChannel: 'email',
    },
    practice: 'B82005',
    originalTeamId: 'RTH01-ONC',
    specialty: 'oncology',
    reason: 'Unsure about the recommended chemotherapy regimen; asks for a second opinion at another centre.',
    urgency: 'urgent',
    explainedByOriginalTeam: true,
    recordsSharingConsent: true,
  },
  {
    patient: { nhsNumber: testNhsNumber(300003), name: 'Grace Okafor', email: 'grace.okafor@patients.example', preferredChannel: 'email' },
    practice: 'A81001',
    originalTeamId: 'RXF05-RHEUM',
    specialty: 'rheumatology',
    reason: 'Diagnosis of lupus not yet confirmed; patient would like a different team to review the results.',
    urgency: 'routine',
    explainedByOriginalTeam: false,
    recordsSharingConsent: false,
  },
];

if (existsSync(marker)) {
  process.stderr.write('[demo] demo referrals already created (delete .local/state/demo to create them again)\n');
  process.exit(0);
}

const ids = [];
for (const { practice, ...body } of demo) {
  // Sent as the referring practice's GP system would: with a token naming the practice.
  const token = await mintDevToken(join(root, '.local/state/auth'), { role: 'gp', organisation: practice, subject: `demo-gp@${practice}` });
  const res = await fetch(`${api}/v1/referrals`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  if (res.status !== 202) {
    process.stderr.write(`[demo] creating a demo referral failed: HTTP ${res.status} ${await res.text()}\n`);
    process.exit(1);
  }
  ids.push((await res.json()).id);
}
// The first patient's GP refers her to a cardiology team at another trust: the referral reaches the receiving team's
// triage queue, and her letters, results and CT images move from St Elsewhere (RJ1) to Calder and Pennine (RTH).
const gp = await mintDevToken(join(root, '.local/state/auth'), {
  role: 'gp',
  organisation: demo[0].practice,
  subject: `demo-gp@${demo[0].practice}`,
});
const auth = { authorization: `Bearer ${gp}` };
for (let i = 0; ; i++) {
  const r = await fetch(`${api}/v1/referrals/${ids[0]}`, { headers: auth });
  if (r.status === 200 && (await r.json()).state === 'gp-review') break;
  if (i > 100) {
    process.stderr.write('[demo] the first demo referral did not reach gp-review within 20 s\n');
    process.exit(1);
  }
  await new Promise((ok) => setTimeout(ok, 200));
}
const refer = await fetch(`${api}/v1/referrals/${ids[0]}/gp-decision`, {
  method: 'POST',
  headers: { ...auth, 'content-type': 'application/json' },
  body: JSON.stringify({ decision: 'refer', targetTeamId: 'RTH01-CARD' }),
});
if (!refer.ok) {
  process.stderr.write(`[demo] referring the first demo referral failed: HTTP ${refer.status} ${await refer.text()}\n`);
  process.exit(1);
}
mkdirSync(dirname(marker), { recursive: true });
writeFileSync(marker, `${ids.join('\n')}\n`);
process.stderr.write(`[demo] created ${ids.length} demo referrals:\n${ids.map((id) => `         ${api}/v1/referrals/${id}`).join('\n')}\n`);
process.stderr.write(
  `[demo] the first was referred to RTH01-CARD: its records move from RJ1 to RTH (transfers: http://127.0.0.1:${process.env.RECORDS_TRANSFER_HTTP_PORT ?? 8082}/v1/transfers?referralId=${ids[0]}; images: http://127.0.0.1:8043/app/explorer.html)\n`,
);
