export * from './tracing';
export * from './shutdown';
export * from './metrics';
export * from './workflow-spans';
