import { Module, type DynamicModule, type FactoryProvider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { READINESS_PROBES, type ReadinessProbe } from './readiness';

export interface HealthModuleOptions {
  readonly inject: FactoryProvider['inject'];
  readonly useFactory: (...deps: never[]) => ReadinessProbe[];
}

@Module({})
export class HealthModule {
  /** Probes come from a factory so they can use the service's own providers (ORM, broker, Temporal client). */
  static forRoot(options: HealthModuleOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [
        { provide: READINESS_PROBES, inject: options.inject ?? [], useFactory: options.useFactory as FactoryProvider['useFactory'] },
      ],
    };
  }
}
