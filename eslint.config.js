// Lint rules that enforce ../shared/STYLE.md: one-way dependencies
// (proto → libs → services), no deep or relative imports into another
// package, no test support in production code, no cycles, no undeclared
// dependencies, no floating promises, no `export *`, no console in libraries.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const importX = require('eslint-plugin-import-x');
const { createTypeScriptImportResolver } = require('eslint-import-resolver-typescript');

const fs = require('node:fs');
const path = require('node:path');

const workspacePackages = ['libs', 'services', 'examples', 'tools'].flatMap((top) =>
  fs.existsSync(path.join(__dirname, top))
    ? fs.readdirSync(path.join(__dirname, top)).filter((d) => fs.existsSync(path.join(__dirname, top, d, 'package.json'))).map((d) => `${top}/${d}`)
    : [],
);
// Files that may use devDependencies: tests, test support, benchmarks, the demo, scripts.
const devFiles = ['**/*.test.ts', '**/src/testing/**', 'test/**', 'bench/**', 'demo/**', '**/scripts/**', 'libs/testkit/**', '*.js'];
// Test support: the test kit, a package's src/testing/, fixture modules.
const testSupport = ['libs/testkit/**', '**/src/testing/**', '**/*fixtures*'];

const noServices = { group: ['**/services/**', '@schedmesh/*-service'], message: 'Libraries never import services.' };
const runnerWithoutPlugins = { group: ['@schedmesh/plugins'], message: 'The runner never depends on the in-tree plugins (their registry composes the two).' };
const purity = {
  group: ['@schedmesh/runtime', '@schedmesh/testkit', '**/services/**', '@schedmesh/*-service'],
  message: 'libs/model and the scheduling framework (framework, scheduling, plugins) are pure: no runtime, no test kit, no services.',
};

const deepImports = {
  group: ['@schedmesh/*/src', '@schedmesh/*/src/*', '**/libs/*/src/**', '**/services/*/src/**', '**/libs/*/dist/**'],
  message: 'Import another package by its name (@schedmesh/<pkg>), never its src/ or dist/.',
};

module.exports = tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'libs/proto/src/gen/**', 'libs/proto/src/descriptor.ts', '.tmp/**', 'test/cluster/.work/**', 'coverage/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'scripts/*.js', 'tools/*/bin/*.js'] }, tsconfigRootDir: __dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ alwaysTryTypes: true, noWarnOnMultipleProjects: true, project: ['libs/*/tsconfig.json', 'services/*/tsconfig.json', 'examples/*/tsconfig.json', 'tools/*/tsconfig.json', 'test/tsconfig.json'] })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'No export * barrels: export names explicitly.' }],
      'no-restricted-imports': ['error', { patterns: [deepImports] }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-extraneous-dependencies': ['error', { packageDir: [__dirname], devDependencies: devFiles }],
      // `../../snapshot/src/app.js` from services/filterscore, `../../services/x/src/y` from test/:
      // another package is imported by its name, whatever the path looks like.
      'import-x/no-relative-packages': 'error',
    },
  },
  {
    // Production code never imports test support (by resolved path, so a package name, a
    // relative path and a re-export all count). Tests, test support, test/ and bench/ may.
    files: ['libs/**/*.ts', 'services/**/*.ts', 'examples/**/*.ts', 'tools/**/*.ts'],
    ignores: ['**/*.test.ts', ...testSupport],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: __dirname,
          zones: [{ target: '.', from: testSupport, message: 'Test support (libs/testkit, src/testing/, fixtures) is for tests only: it is never built into dist/.' }],
        },
      ],
    },
  },
  // Each workspace package may import what its own package.json declares
  // (tests also what the root's devDependencies declare).
  ...workspacePackages.map((dir) => ({
    files: [`${dir}/**/*.ts`],
    rules: {
      'import-x/no-extraneous-dependencies': ['error', { packageDir: [path.join(__dirname, dir), __dirname], devDependencies: devFiles }],
    },
  })),
  {
    // Libraries: never import a service, never print.
    files: ['libs/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [deepImports, noServices],
        },
      ],
    },
  },
  {
    // Tools (the operators' CLI) talk to the services over gRPC only, like any client.
    files: ['tools/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [deepImports, noServices] }] },
  },
  {
    // The model and the scheduling framework (contract, runner, plugins) are pure: no I/O runtime, no test kit, no services.
    files: ['libs/model/**/*.ts', 'libs/framework/**/*.ts', 'libs/scheduling/**/*.ts', 'libs/plugins/**/*.ts'],
    ignores: ['**/*.test.ts', '**/src/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [deepImports, purity],
        },
      ],
    },
  },
  {
    // One way: framework (contract) ← scheduling (runner, snapshot) ← plugins' registry. A plugin knows only the
    // contract, never the runner nor a sibling plugin (its tests may use the runner).
    files: ['libs/plugins/src/*/**/*.ts'],
    ignores: ['**/*.test.ts', '**/src/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            deepImports,
            purity,
            { group: ['@schedmesh/scheduling', '@schedmesh/scheduling/*'], message: 'A plugin depends on the contract (@schedmesh/framework), not on the runner.' },
            { group: ['../*/plugin.js', '../*/args.js'], message: 'No plugin imports another plugin; share code through ../helpers.' },
          ],
        },
      ],
    },
  },
  {
    // The contract depends on nothing of the framework's implementation.
    files: ['libs/framework/**/*.ts'],
    ignores: ['**/*.test.ts', '**/src/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [deepImports, purity, { group: ['@schedmesh/scheduling', '@schedmesh/plugins'], message: 'libs/framework is the contract: it never imports the runner or the plugins.' }],
        },
      ],
    },
  },
  {
    files: ['libs/scheduling/**/*.ts'],
    ignores: ['**/*.test.ts', '**/src/testing/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [deepImports, purity, runnerWithoutPlugins] }] },
  },
  {
    // Its tests too: a test importing the plugins would need a build cycle (see libs/plugins/src/cycle.test.ts).
    files: ['libs/scheduling/**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [deepImports, noServices, runnerWithoutPlugins] }] },
  },
  {
    // jest's global set-up runs outside the module mapper, so it reaches the test kit by path.
    files: ['test/jest/**/*.ts', 'test/cluster/cli.ts'],
    rules: { 'no-restricted-imports': 'off', 'import-x/no-relative-packages': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', Buffer: 'readonly' } },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/unbound-method': 'off' },
  },
);
