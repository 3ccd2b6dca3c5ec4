export * from './service-kit.module';
export * from './sealed-fields';
