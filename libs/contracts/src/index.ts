export * from './topics';
export * from './envelope';
export * from './registry';
export * from './identifiers';
export * from './events/referral';
export * from './events/records';
export * from './events/notification';
export * from './catalogue';
