import { All, Controller, Get, HttpCode, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAnswer, ApiProblems, noQueryParametersSchema, parseOrProblem, Problem, problemType, Public } from '@sonet/service-kit';
import { marthasRuleSchema } from '../openapi/answers';

const EXPLANATION =
  "Martha's Rule gives inpatients, and their families and friends, access to an urgent review if they are worried that " +
  "the patient's condition is getting worse. It is a different pathway from a second opinion: ask the ward staff for a " +
  "Martha's Rule review (usually by the hospital's critical care outreach team). This service does not handle it.";

/** Rule 12: urgent inpatient reviews (Martha's Rule) are out of scope, and the API says so when asked. */
@ApiTags('scope')
@Public()
@Controller('v1')
export class MarthasRuleController {
  @Get('scope/marthas-rule')
  @ApiOperation({ summary: "Whether Martha's Rule urgent inpatient reviews are handled here (they are not)" })
  @ApiAnswer(200, marthasRuleSchema, 'Not in scope, and where to go instead.')
  @ApiProblems([400, 'A query parameter is given (it takes none).'])
  scope(@Query() query: unknown): { inScope: false; pathway: string; explanation: string } {
    parseOrProblem(noQueryParametersSchema, query, 'query');
    return { inScope: false, pathway: "Martha's Rule urgent inpatient review", explanation: EXPLANATION };
  }

  @All('urgent-inpatient-reviews')
  @HttpCode(422)
  @ApiOperation({ summary: "Not handled: Martha's Rule is a different pathway (answers 422 problem+json)" })
  @ApiProblems([422, "Martha's Rule is a different pathway: the detail says where to go."])
  urgentInpatientReview(): never {
    throw new Problem({
      type: problemType('out-of-scope'),
      title: "Martha's Rule is a different pathway",
      status: 422,
      detail: EXPLANATION,
    });
  }
}
