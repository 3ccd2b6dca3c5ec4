import { boundingBox, distanceKm, roundKm, type GeoPoint } from './distance';

const city = {
  london: { lat: 51.5074, lon: -0.1278 },
  paris: { lat: 48.8566, lon: 2.3522 },
  edinburgh: { lat: 55.9533, lon: -3.1883 },
  newYork: { lat: 40.7128, lon: -74.006 },
  losAngeles: { lat: 34.0522, lon: -118.2437 },
  sydney: { lat: -33.8688, lon: 151.2093 },
  melbourne: { lat: -37.8136, lon: 144.9631 },
} satisfies Record<string, GeoPoint>;

describe('distanceKm (great-circle distance)', () => {
  it.each([
    ['London', city.london, 'Paris', city.paris, 344],
    ['London', city.london, 'Edinburgh', city.edinburgh, 534],
    ['New York', city.newYork, 'Los Angeles', city.losAngeles, 3944],
    ['Sydney', city.sydney, 'Melbourne', city.melbourne, 713],
  ])('puts %s within 1%% of the published %s distance', (_a, a, _b, b, published) => {
    expect(Math.abs(distanceKm(a, b) - published) / published).toBeLessThan(0.01);
  });

  it('is the same both ways and zero from a place to itself', () => {
    expect(distanceKm(city.london, city.paris)).toBeCloseTo(distanceKm(city.paris, city.london), 9);
    expect(distanceKm(city.edinburgh, city.edinburgh)).toBe(0);
  });

  it("gives half the Earth's circumference between antipodes, without NaN", () => {
    expect(distanceKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(Math.PI * 6371.0088, 3);
    expect(distanceKm({ lat: 90, lon: 0 }, { lat: -90, lon: 0 })).toBeCloseTo(Math.PI * 6371.0088, 3);
  });

  it('measures across the antimeridian the short way', () => {
    expect(distanceKm({ lat: 0, lon: 179.5 }, { lat: 0, lon: -179.5 })).toBeCloseTo(111.2, 0);
  });
});

describe('roundKm', () => {
  it('rounds to a tenth of a kilometre', () => {
    expect(roundKm(3.14159)).toBe(3.1);
    expect(roundKm(15.46)).toBe(15.5);
    expect(roundKm(0.04)).toBe(0);
  });
});

describe('boundingBox', () => {
  it('contains every point at the given distance, in all directions', () => {
    const origin = { lat: 53.8, lon: -1.55 };
    const box = boundingBox(origin, 50);
    for (let bearing = 0; bearing < 360; bearing += 15) {
      // A point 49.9 km away on this bearing (small-distance approximation, ample for the check).
      const r = (bearing * Math.PI) / 180;
      const lat = origin.lat + (49.9 / 111.2) * Math.cos(r);
      const lon = origin.lon + ((49.9 / 111.2) * Math.sin(r)) / Math.cos((origin.lat * Math.PI) / 180);
      expect(distanceKm(origin, { lat, lon })).toBeLessThan(50);
      expect(lat).toBeGreaterThanOrEqual(box.minLat);
      expect(lat).toBeLessThanOrEqual(box.maxLat);
      expect(lon).toBeGreaterThanOrEqual(box.minLon!);
      expect(lon).toBeLessThanOrEqual(box.maxLon!);
    }
  });

  it('leaves longitude open near a pole and across the antimeridian', () => {
    expect(boundingBox({ lat: 89.5, lon: 0 }, 100)).not.toHaveProperty('minLon');
    expect(boundingBox({ lat: 0, lon: 179.9 }, 100)).not.toHaveProperty('maxLon');
  });
});
