import { createHash } from 'node:crypto';
import { studyDigest } from './digest';
import { refusalOf } from '../activities/records-transfer.activities';

describe('digests', () => {
  const a = { sopInstanceUid: '2.25.1.1.2', sha256: 'b'.repeat(64) };
  const b = { sopInstanceUid: '2.25.1.1.10', sha256: 'c'.repeat(64) };

  it("digests a study over its instances' digests in UID order, whatever order they come in", () => {
    const expected = createHash('sha256').update(`${b.sopInstanceUid} ${b.sha256}\n${a.sopInstanceUid} ${a.sha256}\n`).digest('hex');
    expect(studyDigest([a, b])).toBe(expected);
    expect(studyDigest([b, a])).toBe(expected);
  });

  it('changes when any instance changes', () => {
    expect(studyDigest([a, { ...b, sha256: 'd'.repeat(64) }])).not.toBe(studyDigest([a, b]));
  });
});

describe('limits on what may be sent', () => {
  const allowed = ['application/pdf', 'application/dicom'];
  it('refuses a media type not on the allow-list, naming it', () => {
    expect(refusalOf('application/x-msdownload', 10, allowed, 100)).toBe('media type application/x-msdownload is not on the allow-list');
  });
  it('refuses an item over the size limit', () => {
    expect(refusalOf('application/pdf', 101, allowed, 100)).toBe('101 bytes is over the 100-byte limit');
  });
  it('lets through an allowed type within the limit (parameters and case ignored)', () => {
    expect(refusalOf('Application/PDF; charset=binary', 100, allowed, 100)).toBeNull();
    expect(refusalOf('application/dicom', null, allowed, 100)).toBeNull();
  });
});
