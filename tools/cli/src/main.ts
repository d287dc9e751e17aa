#!/usr/bin/env node
// schedmesh: the operators' command line (see README.md).
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { runCli } from './cli.js';

runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  readInput: (path) => (path === '-' ? text(process.stdin) : readFile(path, 'utf8')),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // A bug, not a user error: the stack helps the report.
    process.stderr.write(`schedmesh: unexpected failure: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
