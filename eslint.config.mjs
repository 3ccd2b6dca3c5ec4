import nx from '@nx/eslint-plugin';

/** Project dependency rules; tests (spec files) may also use the testing library. */
const depConstraints = (inTests) => {
  const t = (tags) => (inTests ? [...tags, 'type:testing'] : tags);
  return [
    // A service never imports another service; shared libraries import only shared libraries.
    { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
    { sourceTag: 'scope:referral', onlyDependOnLibsWithTags: ['scope:referral', 'scope:shared'] },
    { sourceTag: 'scope:records-transfer', onlyDependOnLibsWithTags: ['scope:records-transfer', 'scope:shared'] },
    { sourceTag: 'scope:notification', onlyDependOnLibsWithTags: ['scope:notification', 'scope:shared'] },
    { sourceTag: 'scope:audit', onlyDependOnLibsWithTags: ['scope:audit', 'scope:shared'] },
    { sourceTag: 'scope:console', onlyDependOnLibsWithTags: ['scope:console', 'scope:shared'] },
    { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['scope:shared'] },
    // contracts depends on nothing but its schema library.
    {
      sourceTag: 'type:contracts',
      onlyDependOnLibsWithTags: t([]),
      bannedExternalImports: inTests ? [] : ['@nestjs/*', '@mikro-orm/*', 'kafkajs', '@temporalio/*', 'pg'],
    },
    { sourceTag: 'type:util', onlyDependOnLibsWithTags: t(['type:contracts', 'type:util']) },
    { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: t(['type:contracts', 'type:util']) },
    // The testing library serves every project's tests, so it depends on no project but contracts and utils.
    { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts', 'type:util'] },
    // The service host composes the shared wiring of every service (logging, auth, ORM, messaging, health; ADR 13).
    { sourceTag: 'type:host', onlyDependOnLibsWithTags: t(['type:contracts', 'type:util', 'type:data-access']) },
    { sourceTag: 'type:app', onlyDependOnLibsWithTags: t(['type:contracts', 'type:util', 'type:data-access', 'type:host']) },
    { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:data-access', 'type:testing'] },
  ];
};

const boundaries = (inTests) => ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints: depConstraints(inTests) }];

const nodeBuiltins = ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net', 'os', 'child_process', 'worker_threads'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '.local/**', 'coverage/**', '.nx/**'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries(false),
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-ignore': 'allow-with-description', minimumDescriptionLength: 10 }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='it'][callee.property.name='only']", message: 'it.only left behind' },
        { selector: "CallExpression[callee.object.name='describe'][callee.property.name='only']", message: 'describe.only left behind' },
      ],
    },
  },
  {
    // Specs, and the fixtures beside them in a project's test/ folder (never built into dist/).
    files: ['**/*.spec.ts', 'services/*/test/**/*.ts', 'libs/*/test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries(true),
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-empty-function': 'off',
    },
  },
  {
    // kafkajs stays behind the port in libs/messaging/src/kafka (it is unmaintained upstream; a swap must stay cheap).
    files: ['**/*.ts'],
    ignores: ['libs/messaging/src/kafka/**', '**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'kafkajs', message: 'use the MessageBroker port from @sonet/messaging' }] }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries, no service code.
    files: ['services/*/src/workflows/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'workflow code is deterministic: no Node built-ins' },
            {
              group: ['@nestjs/*', '@mikro-orm/*', 'kafkajs', 'pg', '@sonet/messaging', '@sonet/service-kit', '@sonet/observability'],
              message: 'no I/O libraries in workflow code: use activities',
            },
            {
              group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'],
              message: 'only @temporalio/workflow (and common) in workflow code',
            },
            {
              group: ['../activities/*', '../*/*.handler', '../infrastructure/*'],
              message: 'workflows import activity types from ./definitions only',
            },
          ],
        },
      ],
    },
  },
];
