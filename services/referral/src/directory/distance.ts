/** A point on the Earth's surface in WGS84 degrees. */
export interface GeoPoint {
  readonly lat: number;
  readonly lon: number;
}

/** Mean Earth radius (IUGG), in kilometres. */
const EARTH_RADIUS_KM = 6371.0088;
const toRadians = (degrees: number) => (degrees * Math.PI) / 180;

/**
 * Great-circle distance between two points in kilometres (haversine). A straight-line figure: road travel is
 * longer, but it ranks hospitals the same way and needs no routing service.
 */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const dLat = toRadians(b.lat - a.lat);
  const dLon = toRadians(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRadians(a.lat)) * Math.cos(toRadians(b.lat)) * Math.sin(dLon / 2) ** 2;
  // min(1, …) guards against rounding just above 1 for antipodal points.
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Distances as shown to people: to 0.1 km. */
export const roundKm = (km: number): number => Math.round(km * 10) / 10;

/**
 * A latitude/longitude box that contains every point within `km` of `origin`, for a cheap index-friendly
 * prefilter before the exact distance. Longitude is unbounded near the poles or across the antimeridian.
 */
export function boundingBox(origin: GeoPoint, km: number): { minLat: number; maxLat: number; minLon?: number; maxLon?: number } {
  // 110 km per degree of latitude is a little under the true 110.6–111.7, so the box errs on the large side.
  const dLat = km / 110;
  const minLat = Math.max(-90, origin.lat - dLat);
  const maxLat = Math.min(90, origin.lat + dLat);
  const widestLat = Math.max(Math.abs(minLat), Math.abs(maxLat));
  if (widestLat >= 89) return { minLat, maxLat };
  const dLon = km / (110 * Math.cos(toRadians(widestLat)));
  const minLon = origin.lon - dLon;
  const maxLon = origin.lon + dLon;
  if (minLon < -180 || maxLon > 180) return { minLat, maxLat };
  return { minLat, maxLat, minLon, maxLon };
}
