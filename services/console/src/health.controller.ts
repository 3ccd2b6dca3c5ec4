import { Controller, Get, Header } from '@nestjs/common';

/** Liveness and readiness for the supervisor and Kubernetes: the console needs nothing but itself to answer. */
@Controller('health')
export class HealthController {
  @Get('live')
  @Header('cache-control', 'no-store')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @Header('cache-control', 'no-store')
  ready() {
    return { status: 'ok' };
  }
}
