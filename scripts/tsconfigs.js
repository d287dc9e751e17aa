#!/usr/bin/env node
// Writes every workspace package's two TypeScript projects, and the root ones,
// from the package.json files, so project references never drift from the
// declared dependencies:
//   <pkg>/tsconfig.build.json  the production build: src/ without tests and
//                              src/testing/, into dist/; references the build
//                              projects of its @schedmesh dependencies.
//   <pkg>/tsconfig.json        type-checks the tests and src/testing/ (no emit);
//                              references its own build and its @schedmesh
//                              devDependencies.
//   tsconfig.build.json        every package's build (`npm run build`).
//   tsconfig.json              everything, tests included (`npm run typecheck`).
// libs/testkit and libs/proto keep hand-written projects (test support that is
// never built; generated code). `--check` fails if a file would change.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const check = process.argv.includes('--check');
const special = new Set(['libs/testkit', 'libs/proto']);

const dirs = ['libs', 'services', 'examples', 'tools'].flatMap((top) =>
  fs.existsSync(path.join(root, top))
    ? fs
        .readdirSync(path.join(root, top))
        .filter((d) => fs.existsSync(path.join(root, top, d, 'package.json')))
        .map((d) => `${top}/${d}`)
    : [],
);
const byName = new Map(dirs.map((d) => [JSON.parse(fs.readFileSync(path.join(root, d, 'package.json'), 'utf8')).name, d]));

// The project another project references for a package: its build, or the test kit's only project.
const projectOf = (dir) => (dir === 'libs/testkit' ? dir : `${dir}/tsconfig.build.json`);
const rel = (from, to) => path.relative(path.join(root, from), path.join(root, to)) || '.';
const workspaceDeps = (deps) => Object.keys(deps ?? {}).filter((n) => byName.has(n)).map((n) => byName.get(n)).sort();

let stale = [];
function write(file, value) {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  const full = path.join(root, file);
  const old = fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : undefined;
  if (old === text) return;
  if (check) stale.push(file);
  else fs.writeFileSync(full, text);
}

for (const dir of dirs) {
  if (special.has(dir)) continue;
  const pkg = JSON.parse(fs.readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
  const depth = dir.split('/').length;
  const base = `${'../'.repeat(depth)}tsconfig.base.json`;
  write(`${dir}/tsconfig.build.json`, {
    extends: base,
    compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/.tsbuildinfo' },
    include: ['src'],
    exclude: ['src/**/*.test.ts', 'src/testing'],
    references: workspaceDeps(pkg.dependencies).map((d) => ({ path: rel(dir, projectOf(d)) })),
  });
  // A package's developer scripts (scripts/) are type-checked with its tests.
  const hasScripts = fs.existsSync(path.join(root, dir, 'scripts'));
  write(`${dir}/tsconfig.json`, {
    extends: base,
    compilerOptions: { rootDir: hasScripts ? '.' : 'src', noEmit: true, tsBuildInfoFile: `${'../'.repeat(depth)}.tmp/tsc/${dir.replace('/', '-')}.tsbuildinfo` },
    include: ['src/**/*.test.ts', 'src/testing', ...(hasScripts ? ['scripts'] : [])],
    references: [{ path: './tsconfig.build.json' }, ...workspaceDeps(pkg.devDependencies).map((d) => ({ path: rel(dir, projectOf(d)) }))],
  });
}

const built = dirs.filter((d) => d !== 'libs/testkit');
write('tsconfig.build.json', { files: [], references: built.map((d) => ({ path: `${d}/tsconfig.build.json` })) });
write('tsconfig.json', { files: [], references: [...dirs.map((d) => ({ path: d })), { path: 'test' }] });

// test/ and bench/ may import any package: they reference every build.
const testConfig = JSON.parse(fs.readFileSync(path.join(root, 'test/tsconfig.json'), 'utf8'));
testConfig.references = dirs.map((d) => ({ path: rel('test', projectOf(d)) }));
write('test/tsconfig.json', testConfig);

if (stale.length > 0) {
  process.stderr.write(`tsconfigs: out of date: ${stale.join(', ')}; run \`node scripts/tsconfigs.js\`\n`);
  process.exit(1);
}
