import { TEMPLATE_NAMES } from './index';
import { previewTemplate } from './samples';

describe('template previews (sample data only)', () => {
  it.each(TEMPLATE_NAMES)('%s renders completely with the sample data', (name) => {
    const p = previewTemplate(name);
    expect(p.subject.length).toBeGreaterThan(0);
    expect(`${p.subject}\n${p.text}\n${p.sms?.text ?? ''}`).not.toMatch(/undefined|null|NaN|\[object Object\]/);
    expect(p.sms === null).toBe(!name.startsWith('patient-'));
  });
});
