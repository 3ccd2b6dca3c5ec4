import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { READINESS_PROBES, type ReadinessProbe } from './readiness';
import { Public } from '../http/public';

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
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Every dependency answers within its timeout; 503 otherwise, so a load balancer stops sending traffic. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: database, Kafka and (where used) Temporal answer' })
  ready(): Promise<HealthCheckResult> {
    return this.health.check(
      this.probes.map((p) => () => this.indicators.check(p.name).attempt(() => p.check()).withTimeout(PROBE_TIMEOUT_MS)),
    );
  }
}
