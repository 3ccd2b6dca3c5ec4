import { z } from 'zod';
import { baseConfigSchema, ConfigError, loadConfig } from './config';

const serviceSchema = baseConfigSchema.extend({ PGDATABASE: z.string().min(1), REFERRAL_SLA_DAYS: z.coerce.number().int().positive() });

const configErrorOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
};

describe('loadConfig', () => {
  describe('when the environment is valid', () => {
    it('applies defaults and converts values', () => {
      const config = loadConfig(serviceSchema, {
        PGDATABASE: 'referral',
        REFERRAL_SLA_DAYS: '14',
        PGPORT: '6543',
        KAFKA_BROKERS: ' k1:9092, k2:9092 ,',
      });
      expect(config).toEqual({
        NODE_ENV: 'development',
        LOG_LEVEL: 'info',
        HTTP_HOST: '127.0.0.1',
        KAFKA_BROKERS: ['k1:9092', 'k2:9092'],
        PGHOST: '127.0.0.1',
        PGPORT: 6543,
        PGUSER: 'sonet',
        PGPASSWORD: 'sonet',
        DB_POOL_MAX: 10,
        DB_CONNECT_TIMEOUT_MS: 3000,
        AUTH_ISSUER: 'https://dev-issuer.sonet.invalid',
        AUTH_AUDIENCE: 'sonet',
        AUTH_JWKS_FILE: '.local/state/auth/jwks.json',
        PGDATABASE: 'referral',
        REFERRAL_SLA_DAYS: 14,
      });
    });

    it('ignores variables the schema does not know', () => {
      expect(() => loadConfig(baseConfigSchema, { PATH: '/usr/bin', HOME: '/root' })).not.toThrow();
    });
  });

  describe('when several variables are invalid or missing', () => {
    const env = {
      NODE_ENV: 'SECRET-prod',
      LOG_LEVEL: 'SECRET-loud',
      PGPORT: 'SECRET-port',
      DB_POOL_MAX: '-3',
      REFERRAL_SLA_DAYS: 'SECRET-days',
      PGPASSWORD: 'hunter2',
      // PGDATABASE missing
    };

    it('names every one of them in a single ConfigError', () => {
      const e = configErrorOf(() => loadConfig(serviceSchema, env));
      expect(e.message).toMatch(/^invalid configuration:\n/);
      const named = e.message
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(':')[0]);
      expect(named.sort()).toEqual(['DB_POOL_MAX', 'LOG_LEVEL', 'NODE_ENV', 'PGDATABASE', 'PGPORT', 'REFERRAL_SLA_DAYS']);
    });

    it('does not echo any value, valid or not', () => {
      const e = configErrorOf(() => loadConfig(serviceSchema, env));
      expect(e.message).not.toMatch(/SECRET|hunter2/);
    });
  });

  it('reads process.env when no environment is given', () => {
    const saved = process.env.PGPORT;
    process.env.PGPORT = 'not-a-port';
    try {
      expect(configErrorOf(() => loadConfig(baseConfigSchema)).message).toContain('PGPORT');
    } finally {
      if (saved === undefined) delete process.env.PGPORT;
      else process.env.PGPORT = saved;
    }
  });
});
