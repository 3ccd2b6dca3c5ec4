export * from './env';
export * from './nhs';
export * from './temporal';
export * from './auth';
export * from './hospitals';
export * from './local-notify';
export * from './ports';
export * from './teardown';
