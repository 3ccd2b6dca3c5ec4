import { DEMO_ORGANISATIONS, DEMO_PRACTICES, DEMO_SITES, DEMO_TEAMS, DEMO_TRUSTS } from './demo-region';
import { distanceKm } from './distance';

describe('the demo region', () => {
  it('has the organisations and teams that demo data and tests name', () => {
    const ods = DEMO_ORGANISATIONS.map((o) => o.ods);
    expect(ods).toEqual(expect.arrayContaining(['RJ122', 'RTH01', 'RXF05', 'A81001', 'B82005']));
    expect(DEMO_TEAMS.map((t) => t.id)).toEqual(expect.arrayContaining(['RJ122-CARD', 'RTH01-CARD', 'RTH01-ONC', 'RXF05-RHEUM']));
    const rj122Card = DEMO_TEAMS.find((t) => t.id === 'RJ122-CARD')!;
    expect([rj122Card.name, DEMO_SITES.find((s) => s.ods === rj122Card.siteOds)!.name]).toEqual(['Cardiology', 'St Elsewhere Hospital']);
  });

  it('uses ODS code shapes: trusts R + 2, sites their trust + 2 digits, practices a letter + 5 digits', () => {
    for (const t of DEMO_TRUSTS) expect(t.ods).toMatch(/^R[A-Z0-9]{2}$/);
    for (const s of DEMO_SITES) {
      expect(s.ods).toMatch(/^R[A-Z0-9]{2}[0-9]{2}$/);
      expect(s.parentOds).toBe(s.ods.slice(0, 3));
      expect(DEMO_TRUSTS.map((t) => t.ods)).toContain(s.parentOds);
    }
    for (const p of DEMO_PRACTICES) expect(p.ods).toMatch(/^[A-Z][0-9]{5}$/);
    expect(new Set(DEMO_ORGANISATIONS.map((o) => o.ods)).size).toBe(DEMO_ORGANISATIONS.length);
  });

  it('places the sites in one region, 5 to 60 km apart', () => {
    for (const a of DEMO_SITES) {
      for (const b of DEMO_SITES) {
        if (a.ods < b.ods) {
          const km = distanceKm(a, b);
          expect(km).toBeGreaterThanOrEqual(5);
          expect(km).toBeLessThanOrEqual(60);
        }
      }
    }
  });

  it('has several teams per specialty at different sites, with waits of 2 to 30 weeks and undeliverable emails', () => {
    const bySpecialty = new Map<string, Set<string>>();
    for (const t of DEMO_TEAMS) {
      expect(t.id.startsWith(`${t.siteOds}-`)).toBe(true);
      expect(DEMO_SITES.map((s) => s.ods)).toContain(t.siteOds);
      expect(t.specialty).toMatch(/^[a-z][a-z0-9-]+$/);
      expect(t.currentWaitWeeks).toBeGreaterThanOrEqual(2);
      expect(t.currentWaitWeeks).toBeLessThanOrEqual(30);
      expect(t.contactEmail).toMatch(/^[^@\s]+@[a-z0-9.-]+\.nhs\.invalid$/);
      bySpecialty.set(t.specialty, (bySpecialty.get(t.specialty) ?? new Set()).add(t.siteOds));
    }
    expect([...bySpecialty.keys()].sort()).toEqual([
      'cardiology',
      'dermatology',
      'neurology',
      'oncology',
      'orthopaedics',
      'respiratory',
      'rheumatology',
    ]);
    for (const sites of bySpecialty.values()) expect(sites.size).toBeGreaterThanOrEqual(3);
    expect(new Set(DEMO_TEAMS.map((t) => t.id)).size).toBe(DEMO_TEAMS.length);
  });
});
