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

const workspacePackages = ['libs', 'services', 'examples'].flatMap((top) =>
  fs.existsSync(path.join(__dirname, top))
    ? fs.readdirSync(path.join(__dirname, top)).filter((d) => fs.existsSync(path.join(__dirname, top, d, 'package.json'))).map((d) => `${top}/${d}`)
    : [],
);
// Files that may use devDependencies: tests, test support, benchmarks, scripts.
const devFiles = ['**/*.test.ts', '**/src/testing/**', 'test/**', 'bench/**', '**/scripts/**', 'libs/testkit/**', '*.js'];

// Test support: the test kit, a package's src/testing/, fixture modules.
const testSupport = ['libs/testkit/**', '**/src/testing/**', '**/*fixtures*'];

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
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'scripts/*.js'] }, tsconfigRootDir: __dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ alwaysTryTypes: true, noWarnOnMultipleProjects: true, project: ['libs/*/tsconfig.json', 'services/*/tsconfig.json', 'examples/*/tsconfig.json', 'test/tsconfig.json'] })],
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
      // `../../snapshot/src/app.js` from services/filterscore, `../../services/x/src/y` from test/:
      // another package is imported by its name, whatever the path looks like.
      'import-x/no-relative-packages': 'error',
      'import-x/no-extraneous-dependencies': ['error', { packageDir: [__dirname], devDependencies: devFiles }],
    },
  },
  {
    // Production code never imports test support (by resolved path, so a package name, a
    // relative path and a re-export all count). Tests, test support, test/ and bench/ may.
    files: ['libs/**/*.ts', 'services/**/*.ts', 'examples/**/*.ts'],
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
          patterns: [deepImports, { group: ['**/services/**', '@schedmesh/*-service'], message: 'Libraries never import services.' }],
        },
      ],
    },
  },
  {
    // The model is pure: it depends on the generated types only (its tests and test support may use the test kit).
    files: ['libs/model/**/*.ts', 'libs/framework/**/*.ts'],
    ignores: ['**/*.test.ts', '**/src/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [deepImports, { group: ['@schedmesh/runtime', '@schedmesh/testkit', '**/services/**'], message: 'libs/model and libs/framework are pure: no runtime, no services.' }],
        },
      ],
    },
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
