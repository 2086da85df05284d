#!/usr/bin/env node
// Runs the test suite against one nodemailer release, installed apart from
// the project's own: `node scripts/test-nodemailer.mjs 6.9.16 [vitest args]`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [version = '6.9.16', ...vitestArgs] = process.argv.slice(2);
const prefix = resolve('.tmp', `nodemailer-${version}`);
const installed = join(prefix, 'node_modules', 'nodemailer');
if (!existsSync(join(installed, 'package.json'))) {
  mkdirSync(prefix, { recursive: true });
  execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `nodemailer@${version}`], { stdio: 'inherit' });
}
console.log(`Testing against nodemailer ${version} (${installed})`);
// fault-server.test.ts proves the test helper against what nodemailer 10 reports; it is not about the library.
const exclude = vitestArgs.length ? [] : ['--exclude', 'test/integration/fault-server.test.ts'];
execFileSync('npx', ['vitest', 'run', ...exclude, ...vitestArgs], { stdio: 'inherit', env: { ...process.env, NODEMAILER_PATH: installed } });
