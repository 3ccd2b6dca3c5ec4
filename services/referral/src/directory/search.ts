import { distanceKm, roundKm, type GeoPoint } from './distance';

/** What ranking needs to know of a team. */
export interface RankableTeam {
  readonly id: string;
  readonly name: string;
  readonly waitWeeks: number;
  readonly site: GeoPoint;
}

export interface RankOptions {
  /** Where travel is measured from; without it there are no distances and teams are ranked by wait. */
  readonly origin?: GeoPoint;
  /** Only teams at most this far from the origin (ignored without an origin). */
  readonly maxKm?: number;
  readonly limit: number;
}

/**
 * Rule 7: orders candidate teams for a GP choosing where to refer. With an origin: nearest first, then shortest
 * wait, each with its distance (to 0.1 km); without one: shortest wait first. Ties fall back to name and id so
 * the order is stable.
 */
export function rankTeams<T extends RankableTeam>(teams: readonly T[], options: RankOptions): Array<T & { distanceKm?: number }> {
  const { origin, maxKm, limit } = options;
  const byNameThenId = (a: T, b: T) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
  if (!origin) {
    return [...teams].sort((a, b) => a.waitWeeks - b.waitWeeks || byNameThenId(a, b)).slice(0, limit);
  }
  return teams
    .map((team) => ({ team, km: distanceKm(origin, team.site) }))
    .filter(({ km }) => maxKm === undefined || km <= maxKm)
    .sort((a, b) => a.km - b.km || a.team.waitWeeks - b.team.waitWeeks || byNameThenId(a.team, b.team))
    .slice(0, limit)
    .map(({ team, km }) => ({ ...team, distanceKm: roundKm(km) }));
}
