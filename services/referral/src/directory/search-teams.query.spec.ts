import { searchTeamsQuerySchema, teamIdSchema } from './search-teams.query';

const issues = (query: Record<string, unknown>) => {
  const r = searchTeamsQuerySchema.safeParse(query);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('GET /v1/directory/teams query', () => {
  it('reads near as latitude and longitude, and numbers from their strings', () => {
    expect(searchTeamsQuerySchema.parse({ specialty: 'Cardiology', near: '53.80,-1.55', maxKm: '40', limit: '5' })).toEqual({
      specialty: 'cardiology',
      near: { lat: 53.8, lon: -1.55 },
      maxKm: 40,
      limit: 5,
    });
  });

  it('defaults the limit to 20 and normalises practice and team codes', () => {
    expect(searchTeamsQuerySchema.parse({ practice: ' a81001 ', excludeTeamId: 'rj122-card' })).toEqual({
      practice: 'A81001',
      excludeTeamId: 'RJ122-CARD',
      limit: 20,
    });
  });

  it.each([
    ['near without a comma', { near: '53.8' }, 'near'],
    ['near with text', { near: 'leeds,uk' }, 'near'],
    ['a latitude past 90', { near: '91,0' }, 'near'],
    ['a longitude past 180', { near: '53.8,-181' }, 'near'],
    ['maxKm without an origin', { maxKm: '10' }, 'maxKm'],
    ['a negative maxKm', { near: '53.8,-1.5', maxKm: '-1' }, 'maxKm'],
    ['both near and practice', { near: '53.8,-1.5', practice: 'A81001' }, 'near'],
    ['a limit of 0', { limit: '0' }, 'limit'],
    ['a limit over 100', { limit: '101' }, 'limit'],
    ['a fractional limit', { limit: '2.5' }, 'limit'],
    ['a specialty that is not a slug', { specialty: 'heart & lungs' }, 'specialty'],
    ['a malformed practice code', { practice: 'A8-1' }, 'practice'],
    ['a malformed team id', { excludeTeamId: 'RJ122' }, 'excludeTeamId'],
    ['a repeated parameter', { specialty: ['cardiology', 'oncology'] }, 'specialty'],
  ])('refuses %s', (_what, query, param) => {
    expect(issues(query).some((i) => i.startsWith(`${param}:`))).toBe(true);
  });

  it('refuses unknown parameters, so a misspelt filter is not silently ignored', () => {
    expect(issues({ maxkm: '10' })).toHaveLength(1);
  });
});

describe('team id', () => {
  it('is a site code, a hyphen and a suffix', () => {
    expect(teamIdSchema.parse('RJ122-CARD')).toBe('RJ122-CARD');
    expect(teamIdSchema.safeParse('RJ122_CARD').success).toBe(false);
    expect(teamIdSchema.safeParse("RJ122-CARD'--").success).toBe(false);
  });
});
