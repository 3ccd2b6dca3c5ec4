import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TokenVerifier, type VerifierSettings } from '../verifier';
import { BearerAuthGuard, TOKEN_VERIFIER } from './auth.guard';

@Module({})
export class AuthModule {
  /** Installs the bearer-token guard on every route of the app. */
  static forRoot(settings: VerifierSettings): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      providers: [
        { provide: TOKEN_VERIFIER, useFactory: () => new TokenVerifier(settings) },
        { provide: APP_GUARD, useClass: BearerAuthGuard },
      ],
      exports: [TOKEN_VERIFIER],
    };
  }
}
