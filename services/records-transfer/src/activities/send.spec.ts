import { localise, withAttachmentsAt } from './send';

describe('filing a copy of a source resource at the target', () => {
  const doc = {
    resourceType: 'DocumentReference',
    id: '1016',
    meta: { versionId: '3' },
    text: { status: 'generated', div: '<div/>' },
    identifier: [{ system: 'https://trust.example/letters', value: 'L-1' }],
    subject: { reference: 'Patient/9' },
    author: [{ reference: 'Practitioner/4', display: 'Dr A Heart' }],
    custodian: { reference: 'Organization/2' },
    content: [
      { attachment: { contentType: 'application/pdf', url: 'Binary/b1', title: 'letter.pdf' } },
      { attachment: { contentType: 'application/pdf', url: 'Binary/gone' } },
    ],
  };

  it('drops what the source server assigned, names where it came from, and rewrites references', () => {
    const copy = localise(doc, 'RJ1', new Map([['Patient/9', 'urn:uuid:p']]));
    expect(copy).not.toHaveProperty('id');
    expect(copy).not.toHaveProperty('meta');
    expect(copy).not.toHaveProperty('text');
    expect(copy.identifier).toEqual([
      { system: 'https://trust.example/letters', value: 'L-1' },
      { system: 'https://sonet.example/Id/records-transfer-source', value: 'RJ1/DocumentReference/1016' },
    ]);
    expect(copy.subject).toEqual({ reference: 'urn:uuid:p' });
    // The target cannot resolve the source's ids: a display names them instead.
    expect(copy.author).toEqual([{ display: 'Dr A Heart' }]);
    expect(copy.custodian).toEqual({ display: 'RJ1 Organization/2' });
  });

  it('points the attachments at the files as filed at the target, and drops the URL of one not sent', () => {
    const copy = withAttachmentsAt(doc, new Map([['Binary/b1', 'Binary/sonet-abc']]));
    expect(copy.content).toEqual([
      { attachment: { contentType: 'application/pdf', url: 'Binary/sonet-abc', title: 'letter.pdf' } },
      { attachment: { contentType: 'application/pdf' } },
    ]);
  });
});
