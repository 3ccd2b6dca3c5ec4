import { Problem } from '@sonet/service-kit';
import { MarthasRuleController } from './marthas-rule.http.controller';

describe("Martha's Rule", () => {
  const controller = new MarthasRuleController();

  it('rule 12: the API says urgent inpatient reviews are out of scope and where to go instead', () => {
    const answer = controller.scope({});
    expect(answer.inScope).toBe(false);
    expect(answer.explanation).toMatch(/different pathway/);
    expect(answer.explanation).toMatch(/ward/);
  });

  it('rule 12: a request for an urgent inpatient review is refused with a problem that explains why', () => {
    let thrown: unknown;
    try {
      controller.urgentInpatientReview();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Problem);
    expect((thrown as Problem).body).toMatchObject({ status: 422, type: 'urn:sonet:problem:out-of-scope' });
  });
});
