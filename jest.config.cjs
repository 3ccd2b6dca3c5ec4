// Every project's tests in one run: unit (*.spec.ts), integration (*.int.spec.ts) and end-to-end (test/**/*.e2e.spec.ts).
module.exports = {
  projects: ['<rootDir>/libs/*/jest.config.cjs', '<rootDir>/services/*/jest.config.cjs', '<rootDir>/test/jest.config.cjs'],
  // A global option (ignored inside projects): integration tests wait on real servers, and closing a Kafka
  // consumer or app takes seconds; unit tests finish far sooner.
  testTimeout: 60_000,
};
