import { rankTeams, type RankableTeam } from './search';

const leeds = { lat: 53.8017, lon: -1.552 };
const halifax = { lat: 53.7058, lon: -1.854 };
const york = { lat: 53.969, lon: -1.083 };

const team = (id: string, waitWeeks: number, site: { lat: number; lon: number }, name = 'Cardiology'): RankableTeam => ({
  id,
  name,
  waitWeeks,
  site,
});

const teams = [
  team('R0A01-CARD', 9, york),
  team('RJ122-CARD', 18, leeds),
  team('RTH01-CARD', 6, halifax),
  team('RJ122-CAR2', 4, leeds, 'Cardiology (heart failure)'),
];

describe('ranking teams for a GP choosing where to refer (rule 7)', () => {
  describe('with an origin', () => {
    it('puts the nearest first and, at the same site, the shorter wait first', () => {
      const ranked = rankTeams(teams, { origin: { lat: 53.826, lon: -1.576 }, limit: 10 });
      expect(ranked.map((t) => t.id)).toEqual(['RJ122-CAR2', 'RJ122-CARD', 'RTH01-CARD', 'R0A01-CARD']);
    });

    it('gives each team its distance to 0.1 km', () => {
      const ranked = rankTeams(teams, { origin: leeds, limit: 10 });
      expect(ranked[0]!.distanceKm).toBe(0);
      for (const t of ranked) expect(t.distanceKm).toBe(Math.round(t.distanceKm! * 10) / 10);
      expect(ranked.find((t) => t.id === 'R0A01-CARD')!.distanceKm).toBe(35.9);
    });

    it('leaves out teams further than maxKm', () => {
      const ranked = rankTeams(teams, { origin: leeds, maxKm: 25, limit: 10 });
      expect(ranked.map((t) => t.id)).toEqual(['RJ122-CAR2', 'RJ122-CARD', 'RTH01-CARD']);
    });

    it('returns at most limit teams, the best ranked', () => {
      expect(rankTeams(teams, { origin: york, limit: 1 }).map((t) => t.id)).toEqual(['R0A01-CARD']);
    });
  });

  describe('without an origin', () => {
    it('orders by wait and gives no distances', () => {
      const ranked = rankTeams(teams, { limit: 10 });
      expect(ranked.map((t) => t.id)).toEqual(['RJ122-CAR2', 'RTH01-CARD', 'R0A01-CARD', 'RJ122-CARD']);
      for (const t of ranked) expect(t).not.toHaveProperty('distanceKm');
    });

    it('breaks equal waits by name, then id, so the order is stable', () => {
      const same = [team('B-2', 5, leeds, 'Beta'), team('A-1', 5, york, 'Alpha'), team('B-1', 5, halifax, 'Beta')];
      expect(rankTeams(same, { limit: 10 }).map((t) => t.id)).toEqual(['A-1', 'B-1', 'B-2']);
    });
  });

  it('does not change the list it was given', () => {
    const copy = [...teams];
    rankTeams(teams, { origin: york, limit: 2 });
    expect(teams).toEqual(copy);
  });
});
