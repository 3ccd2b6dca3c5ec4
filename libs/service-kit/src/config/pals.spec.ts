import { palsContactSchema } from '@sonet/contracts';
import { loadConfig } from './config';
import { palsConfigSchema, palsContactOf } from './pals';

describe('PALS configuration', () => {
  it('gives a contact the events accept, from the defaults', () => {
    const contact = palsContactOf(loadConfig(palsConfigSchema, {}));
    expect(palsContactSchema.parse(contact)).toEqual(contact);
  });

  it('reads every PALS_* variable', () => {
    const config = loadConfig(palsConfigSchema, {
      PALS_NAME: 'PALS, General Hospital',
      PALS_PHONE: '01632 960 999',
      PALS_EMAIL: 'pals@trust.nhs.invalid',
      PALS_URL: 'https://trust.nhs.invalid/pals',
      PALS_OPENING_HOURS: 'weekdays 8 to 6',
    });
    expect(palsContactOf(config)).toEqual({
      name: 'PALS, General Hospital',
      phone: '01632 960 999',
      email: 'pals@trust.nhs.invalid',
      url: 'https://trust.nhs.invalid/pals',
    });
    expect(config.PALS_OPENING_HOURS).toBe('weekdays 8 to 6');
  });

  it('names a bad address without echoing it', () => {
    const load = () => loadConfig(palsConfigSchema, { PALS_EMAIL: 'not-an-address' });
    expect(load).toThrow(/PALS_EMAIL/);
    expect(load).not.toThrow(/not-an-address/);
  });
});
