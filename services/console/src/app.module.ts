import { Module, type DynamicModule } from '@nestjs/common';
import { Backend } from './backend';
import { CONSOLE_CONFIG, type ConsoleConfig } from './config';
import { HealthController } from './health.controller';
import { HomeController, SignInController } from './sign-in/sign-in.controller';
import { OidcSignInController } from './sign-in/oidc.controller';
import { OidcSignIn } from './sign-in/oidc';
import { OpsController } from './ops/ops.controller';
import { AuditorController } from './auditor/auditor.controller';
import { PatientController } from './patient/patient.controller';
import { WorklistController } from './worklist/worklist.controller';
import { Ui } from './ui';

@Module({})
export class ConsoleModule {
  static forRoot(config: ConsoleConfig): DynamicModule {
    const oidc = config.CONSOLE_AUTH_MODE === 'oidc';
    return {
      module: ConsoleModule,
      controllers: [
        HealthController,
        HomeController,
        oidc ? OidcSignInController : SignInController,
        OpsController,
        AuditorController,
        PatientController,
        WorklistController,
      ],
      providers: [{ provide: CONSOLE_CONFIG, useValue: config }, Backend, Ui, ...(oidc ? [OidcSignIn] : [])],
    };
  }
}
