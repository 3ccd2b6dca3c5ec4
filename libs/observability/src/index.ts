export * from './tracing';
export * from './shutdown';
