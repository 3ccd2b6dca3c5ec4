import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { READINESS_PROBES, type ReadinessProbe } from './readiness';
import { Public } from '../http/public';
import { ApiAnswer, ApiProblems } from '../http/openapi';
import { z } from 'zod';

const liveSchema = z.object({ status: z.literal('ok') });
const indicators = z.record(z.string(), z.object({ status: z.string() }).loose());
/** What @nestjs/terminus answers when every probe is up. */
const readySchema = z.object({ status: z.literal('ok'), info: indicators.optional(), error: indicators.optional(), details: indicators });

const PROBE_TIMEOUT_MS = 2_000;

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS_PROBES) private readonly probes: ReadinessProbe[],
  ) {}

  /** The process is up and its event loop answers; says nothing about dependencies (restart only if this fails). */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiAnswer(200, liveSchema, 'The process is up.')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Every dependency answers within its timeout; 503 otherwise, so a load balancer stops sending traffic. */
  @Get('ready')
  // Documented here, not by terminus: its 503 says application/json, and the answer is problem+json.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'Readiness: database, Kafka and (where used) Temporal answer' })
  @ApiAnswer(200, readySchema, 'Every dependency answers.')
  @ApiProblems([503, 'A dependency does not answer (or the service is shutting down).'])
  ready(): Promise<HealthCheckResult> {
    return this.health.check(
      this.probes.map(
        (p) => () =>
          this.indicators
            .check(p.name)
            .attempt(() => p.check())
            .withTimeout(PROBE_TIMEOUT_MS),
      ),
    );
  }
}
