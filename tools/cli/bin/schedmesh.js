#!/usr/bin/env node
// The schedmesh command. A committed, executable entry point, so npm links it
// at install time even before `npm run build` has made dist/.
const path = require('node:path');
const main = path.join(__dirname, '..', 'dist', 'main.js');
try {
  require.resolve(main);
} catch {
  process.stderr.write(`schedmesh: ${main} is missing: run \`npm run build\` in the repository first\n`);
  process.exit(1);
}
require(main);
