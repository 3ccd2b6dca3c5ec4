import { Inject, Injectable, Optional } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { LRUCache } from 'lru-cache';
import { boundingBox, type GeoPoint } from './distance';
import type { SeedOrganisation } from './demo-region';
import { ClinicalTeam, Organisation } from './entities';
import { rankTeams } from './search';

/** An organisation as the directory answers it: the fields it is seeded with (demo-region.ts, or a deployment's seed). */
export type DirectoryOrganisation = SeedOrganisation;

export interface DirectoryTeam {
  id: string;
  name: string;
  specialty: string;
  contactEmail: string;
  waitWeeks: number;
  acceptsSecondOpinions: boolean;
  /** Rule 7: where the team is. */
  site: { ods: string; name: string; postcode: string; lat: number; lon: number };
  trust: { ods: string; name: string } | null;
}

export interface TeamSearch {
  specialty?: string;
  /** Measure travel from this point… */
  near?: GeoPoint;
  /** …or from this GP practice's location (one or the other). */
  practiceOds?: string;
  /** Only teams at most this far (needs an origin). */
  maxKm?: number;
  /** Rule 3: the team that gave the first opinion is not a choice. */
  excludeTeamId?: string;
  limit: number;
}

export type RankedTeam = DirectoryTeam & { distanceKm?: number };

/** A search that cannot be answered as asked: names the parameter at fault. */
export class DirectorySearchError extends Error {
  constructor(
    readonly param: string,
    reason: string,
  ) {
    super(reason);
    this.name = 'DirectorySearchError';
  }
}

const organisationView = (o: Organisation): DirectoryOrganisation => ({
  ods: o.ods,
  name: o.name,
  kind: o.kind,
  parentOds: o.parentOds ?? null,
  postcode: o.postcode,
  lat: o.lat,
  lon: o.lon,
  contactEmail: o.contactEmail ?? null,
});

/** The object and the objects it holds, made read-only. */
function frozen<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') frozen(v as object);
  return Object.freeze(o);
}

/** How long a team or organisation found in the directory is answered from memory (0: always from the database). */
export const DIRECTORY_CACHE_TTL_MS = Symbol('DIRECTORY_CACHE_TTL_MS');

/** What the directory answers from memory: a team or an organisation. */
type DirectoryEntry = DirectoryTeam | DirectoryOrganisation;

/** Most teams and organisations held in memory: a region's directory holds hundreds. */
const DIRECTORY_CACHE_MAX = 5_000;

/**
 * The directory of organisations and clinical teams, read by GPs choosing a team (rule 7) and by the referral process.
 * Every request and referral decision looks up a team and an organisation: those found are kept for
 * DIRECTORY_CACHE_TTL_MS (bounded in number), so a re-seeded directory shows within that time. A look-up that finds
 * nothing is never kept (a team added is usable at once); a search always reads the database.
 */
@Injectable()
export class DirectoryService {
  /** Keyed 'team:<id>' or 'organisation:<ods>'; each look-up hands the cache its own read as the fetch context. */
  private readonly cache: LRUCache<string, { found: DirectoryEntry }, () => Promise<DirectoryEntry | null>> | undefined;

  constructor(
    private readonly em: EntityManager,
    @Optional() @Inject(DIRECTORY_CACHE_TTL_MS) cacheTtlMs = 0,
  ) {
    this.cache =
      cacheTtlMs > 0
        ? new LRUCache({
            max: DIRECTORY_CACHE_MAX,
            ttl: cacheTtlMs,
            fetchMethod: async (_key, _stale, { context: read }) => {
              const found = await read();
              // Shared by every caller until it expires: frozen, so none can change what the next one reads. Nothing
              // found (undefined) is not stored.
              return found ? { found: frozen(found) } : undefined;
            },
          })
        : undefined;
  }

  findOrganisation(ods: string): Promise<DirectoryOrganisation | null> {
    return this.remembered(`organisation:${ods}`, () => this.readOrganisation(ods));
  }

  findTeam(id: string): Promise<DirectoryTeam | null> {
    return this.remembered(`team:${id}`, () => this.readTeam(id));
  }

  /** What `read` finds, from memory while it is kept there (without a cache, always read). */
  private async remembered<T extends DirectoryEntry>(key: string, read: () => Promise<T | null>): Promise<T | null> {
    if (!this.cache) return read();
    return ((await this.cache.fetch(key, { context: read }))?.found as T | undefined) ?? null;
  }

  private async readOrganisation(ods: string): Promise<DirectoryOrganisation | null> {
    const organisation = await this.em.fork().findOne(Organisation, { ods });
    return organisation ? organisationView(organisation) : null;
  }

  private async readTeam(id: string): Promise<DirectoryTeam | null> {
    const em = this.em.fork();
    const team = await em.findOne(ClinicalTeam, { id }, { populate: ['site'] });
    if (!team) return null;
    const trusts = await this.trustsOf(em, [team]);
    return this.teamView(team, trusts);
  }

  /**
   * Teams accepting second opinions, nearest first when an origin is given (then by wait), else by wait.
   * A region's directory holds hundreds of teams, so the exact distance and ranking run here rather than in SQL;
   * with maxKm a bounding box keeps far-away rows in the database.
   */
  async searchTeams(search: TeamSearch): Promise<RankedTeam[]> {
    if (search.near && search.practiceOds) throw new DirectorySearchError('near', 'give either near or practice as the origin, not both');
    if (search.maxKm !== undefined && !search.near && !search.practiceOds) {
      throw new DirectorySearchError('maxKm', 'maxKm needs an origin: near or practice');
    }
    const em = this.em.fork();
    let origin = search.near;
    if (search.practiceOds) {
      const practice = await em.findOne(Organisation, { ods: search.practiceOds, kind: 'gp-practice' });
      if (!practice) throw new DirectorySearchError('practice', `no GP practice ${search.practiceOds} in the directory`);
      origin = { lat: practice.lat, lon: practice.lon };
    }
    const box = origin && search.maxKm !== undefined ? boundingBox(origin, search.maxKm) : undefined;
    const teams = await em.find(
      ClinicalTeam,
      {
        acceptsSecondOpinions: true,
        ...(search.specialty ? { specialty: search.specialty } : {}),
        ...(search.excludeTeamId ? { id: { $ne: search.excludeTeamId } } : {}),
        ...(box
          ? {
              site: {
                lat: { $gte: box.minLat, $lte: box.maxLat },
                ...(box.minLon !== undefined && box.maxLon !== undefined ? { lon: { $gte: box.minLon, $lte: box.maxLon } } : {}),
              },
            }
          : {}),
      },
      { populate: ['site'] },
    );
    const trusts = await this.trustsOf(em, teams);
    return rankTeams(
      teams.map((t) => this.teamView(t, trusts)),
      { ...(origin ? { origin } : {}), ...(search.maxKm !== undefined ? { maxKm: search.maxKm } : {}), limit: search.limit },
    );
  }

  private async trustsOf(em: EntityManager, teams: ClinicalTeam[]): Promise<Map<string, Organisation>> {
    const parents = [...new Set(teams.map((t) => t.site.parentOds).filter((ods): ods is string => !!ods))];
    if (parents.length === 0) return new Map();
    const trusts = await em.find(Organisation, { ods: { $in: parents } });
    return new Map(trusts.map((o) => [o.ods, o]));
  }

  private teamView(team: ClinicalTeam, trusts: Map<string, Organisation>): DirectoryTeam {
    const site = team.site;
    const trust = site.parentOds ? trusts.get(site.parentOds) : undefined;
    return {
      id: team.id,
      name: team.name,
      specialty: team.specialty,
      contactEmail: team.contactEmail,
      waitWeeks: team.currentWaitWeeks,
      acceptsSecondOpinions: team.acceptsSecondOpinions,
      site: { ods: site.ods, name: site.name, postcode: site.postcode, lat: site.lat, lon: site.lon },
      trust: trust ? { ods: trust.ods, name: trust.name } : null,
    };
  }
}
