import { messageTemplatesSchema, readNotificationConfig } from './config';

const ID = '5b0b7b8e-3f7c-4b6f-9a55-0f0c4d2b7a11';

describe('NOTIFY_MESSAGE_TEMPLATES', () => {
  it('reads template ids for some channels of some messages', () => {
    const config = readNotificationConfig({
      NOTIFY_MESSAGE_TEMPLATES: JSON.stringify({ 'patient-referred': { sms: ID }, 'gp-reminder': { email: ID } }),
    });
    expect(config.NOTIFY_MESSAGE_TEMPLATES).toEqual({ 'patient-referred': { sms: ID }, 'gp-reminder': { email: ID } });
    expect(readNotificationConfig({}).NOTIFY_MESSAGE_TEMPLATES).toBeUndefined();
  });

  it.each([
    ['not JSON', '{patient-referred', /not JSON/],
    ['a message we never send', JSON.stringify({ 'patient-lottery-win': { sms: ID } }), /patient-lottery-win|key/i],
    ['a channel Notify does not have', JSON.stringify({ 'patient-referred': { fax: ID } }), /fax|unrecognized/i],
    ['a template id that is not a UUID', JSON.stringify({ 'patient-referred': { sms: 'abc' } }), /uuid/i],
    ['an array', JSON.stringify([ID]), /record|object/i],
  ])('refuses %s, saying what is wrong', (_what, value, message) => {
    const parsed = messageTemplatesSchema.safeParse(value);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(message);
    expect(() => readNotificationConfig({ NOTIFY_MESSAGE_TEMPLATES: value })).toThrow(/NOTIFY_MESSAGE_TEMPLATES/);
  });
});
