import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Roles } from '@sonet/auth';
import { ApiAnswer, ApiProblems, noQueryParametersSchema, notFoundProblem, parseOrProblem, validationProblem } from '@sonet/service-kit';
import { directoryTeamSchema, teamListSchema } from '../openapi/answers';
import { DirectorySearchError, DirectoryService, type DirectoryTeam, type RankedTeam } from './directory.service';
import { MAX_SEARCH_LIMIT, searchTeamsQuerySchema, teamIdSchema } from './search-teams.query';

/** One team in a search result: who, where (rule 7: site, postcode and travel distance), how long the wait is. */
export interface TeamListItem {
  id: string;
  name: string;
  specialty: string;
  site: { ods: string; name: string; postcode: string };
  trust: { ods: string; name: string } | null;
  distanceKm?: number;
  waitWeeks: number;
  contactEmail: string;
}

const listItem = (t: RankedTeam): TeamListItem => ({
  id: t.id,
  name: t.name,
  specialty: t.specialty,
  site: { ods: t.site.ods, name: t.site.name, postcode: t.site.postcode },
  trust: t.trust,
  ...(t.distanceKm !== undefined ? { distanceKm: t.distanceKm } : {}),
  waitWeeks: t.waitWeeks,
  contactEmail: t.contactEmail,
});

@ApiTags('directory')
@ApiBearerAuth()
@Roles('gp', 'clinician', 'ops', 'patient')
@Controller('v1/directory/teams')
export class DirectoryController {
  constructor(private readonly directory: DirectoryService) {}

  @Get()
  @ApiOperation({
    summary: 'Clinical teams a second opinion can go to, with where they are and how far (rule 7)',
    description:
      'Teams accepting second opinions. With an origin (near or practice) each has its straight-line distance in km ' +
      '(to 0.1) and the list is nearest first, then shortest wait; without one, shortest wait first.',
  })
  @ApiQuery({ name: 'specialty', required: false, description: 'lower-case slug, e.g. cardiology' })
  @ApiQuery({ name: 'near', required: false, description: 'origin as "lat,lon" in decimal degrees, e.g. 53.80,-1.55' })
  @ApiQuery({ name: 'practice', required: false, description: 'origin: this GP practice (ODS code), e.g. A81001; not with near' })
  @ApiQuery({ name: 'maxKm', required: false, description: 'only teams at most this far from the origin (needs near or practice)' })
  @ApiQuery({
    name: 'excludeTeamId',
    required: false,
    description: 'leave out this team, e.g. the one that gave the first opinion (rule 3)',
  })
  @ApiQuery({ name: 'limit', required: false, description: `at most this many (1..${MAX_SEARCH_LIMIT}, default 20)` })
  @ApiAnswer(200, teamListSchema, '{ items: [...] } in ranking order.')
  @ApiProblems([400, 'An invalid query parameter, named (e.g. near out of range, maxKm without an origin, unknown practice).'], 401, 403)
  async search(@Query() query: unknown): Promise<{ items: TeamListItem[] }> {
    const q = parseOrProblem(searchTeamsQuerySchema, query, 'query');
    try {
      const teams = await this.directory.searchTeams({
        ...(q.specialty ? { specialty: q.specialty } : {}),
        ...(q.near ? { near: q.near } : {}),
        ...(q.practice ? { practiceOds: q.practice } : {}),
        ...(q.maxKm !== undefined ? { maxKm: q.maxKm } : {}),
        ...(q.excludeTeamId ? { excludeTeamId: q.excludeTeamId } : {}),
        limit: q.limit,
      });
      return { items: teams.map(listItem) };
    } catch (e) {
      if (e instanceof DirectorySearchError) throw validationProblem([{ name: e.param, reason: e.message }], 'The query is not valid.');
      throw e;
    }
  }

  @Get(':id')
  @ApiOperation({ summary: 'One clinical team: specialty, site and location, trust, wait, contact' })
  @ApiParam({ name: 'id', description: 'team id, e.g. RJ122-CARD' })
  @ApiAnswer(200, directoryTeamSchema, 'The team.')
  @ApiProblems([400, 'Not a team id, or a query parameter is given (it takes none).'], 401, 403, [404, 'No such team.'])
  async get(@Param('id') id: string, @Query() query: unknown): Promise<DirectoryTeam> {
    parseOrProblem(noQueryParametersSchema, query, 'query');
    const teamId = parseOrProblem(teamIdSchema, id, 'team id');
    const team = await this.directory.findTeam(teamId);
    if (!team) throw notFoundProblem(`No clinical team ${teamId} in the directory.`);
    return team;
  }
}
