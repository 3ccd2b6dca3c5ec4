import { Module, type DynamicModule } from '@nestjs/common';
import { Backend } from './backend';
import { CONSOLE_CONFIG, type ConsoleConfig } from './config';
import { HealthController } from './health.controller';
import { SignInController } from './sign-in/sign-in.controller';
import { OpsController } from './ops/ops.controller';
import { AuditorController } from './auditor/auditor.controller';
import { PatientController } from './patient/patient.controller';
import { WorklistController } from './worklist/worklist.controller';
import { Ui } from './ui';

@Module({})
export class ConsoleModule {
  static forRoot(config: ConsoleConfig): DynamicModule {
    return {
      module: ConsoleModule,
      controllers: [HealthController, SignInController, OpsController, AuditorController, PatientController, WorklistController],
      providers: [{ provide: CONSOLE_CONFIG, useValue: config }, Backend, Ui],
    };
  }
}
