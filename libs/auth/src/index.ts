export * from './principal';
export * from './verifier';
export * from './dev-issuer';
export * from './service-token';
export * from './nest/auth.guard';
export * from './nest/auth.module';
