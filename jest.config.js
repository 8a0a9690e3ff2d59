/** @type {import('jest').Config} */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];

module.exports = {
  // Jest 30 reads testTimeout only at the top level, not inside a project.
  testTimeout: 180000,
  // Two test files at a time. An integration test spends most of its time waiting on the service,
  // Kafka and the simulator, not on the CPU, and each file brings its own database, topics, consumer
  // groups, Unleash flags and simulator model names (unique suffixes), or a Kafka cluster or Unleash
  // of its own when it breaks one; so two files share the stack without seeing each other. (Jest's
  // default on a 2-core machine is one file at a time.) Jest reads maxWorkers only at the top level.
  maxWorkers: 2,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/tools/**/*.spec.ts', '<rootDir>/scripts/**/*.spec.ts', '<rootDir>/test/harness/**/*.spec.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
    },
  ],
};
