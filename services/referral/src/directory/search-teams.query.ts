import { z } from 'zod';
import { odsCodeSchema } from '@sonet/contracts';
import type { GeoPoint } from './distance';

/** A clinical team id: its site's ODS code, a hyphen and a suffix (e.g. RJ122-CARD). */
export const teamIdSchema = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9]{3,10}-[A-Z0-9]{2,20}$/, 'not a team id (site ODS code, a hyphen and a suffix, e.g. RJ122-CARD)');

export const specialtySchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z][a-z0-9-]{1,99}$/, 'not a specialty (a lower-case slug, e.g. cardiology)');

/** "lat,lon" in decimal degrees, e.g. "53.80,-1.55". */
export const geoPointParamSchema = z.string().transform((value, ctx): GeoPoint => {
  const m = /^\s*(-?\d{1,3}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$/.exec(value);
  const lat = Number(m?.[1]);
  const lon = Number(m?.[2]);
  if (!m || !(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180)) {
    ctx.addIssue({ code: 'custom', message: 'not a location: "lat,lon" in decimal degrees, latitude -90..90, longitude -180..180' });
    return z.NEVER;
  }
  return { lat, lon };
});

export const MAX_SEARCH_LIMIT = 100;

/** Query of GET /v1/directory/teams. Unknown parameters are refused, so a misspelt filter cannot pass unnoticed. */
export const searchTeamsQuerySchema = z
  .object({
    specialty: specialtySchema.optional(),
    near: geoPointParamSchema.optional(),
    /** Measure travel from this GP practice (rule 7: the patient's practice). */
    practice: odsCodeSchema.optional(),
    maxKm: z.coerce.number().positive().max(2000).optional(),
    /** Rule 3: leave out the team that gave the first opinion. */
    excludeTeamId: teamIdSchema.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_SEARCH_LIMIT).default(20),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.near && q.practice) {
      ctx.addIssue({ code: 'custom', path: ['near'], message: 'give either near or practice as the origin, not both' });
    }
    if (q.maxKm !== undefined && !q.near && !q.practice) {
      ctx.addIssue({ code: 'custom', path: ['maxKm'], message: 'maxKm needs an origin: near or practice' });
    }
  });

export type SearchTeamsQuery = z.output<typeof searchTeamsQuerySchema>;
