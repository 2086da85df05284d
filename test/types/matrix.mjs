#!/usr/bin/env node
/**
 * Type-checks the packed package against each supported nodemailer major:
 * 6.x to 9.x with @types/nodemailer (nodemailer shipped no types until 10),
 * and 10.x with its own types. Each row gets a fresh temporary project with
 * only that nodemailer and its types installed, and compiles the same
 * consumer file three ways: as ESM and as CommonJS under `nodenext`
 * resolution, and as CommonJS under the old `node` resolution.
 *
 * Needs a build first (`npm run build`). Exits non-zero if any row fails.
 * Usage: node test/types/matrix.mjs [major ...]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Outside tsconfig.json's include: they import the package by name, which resolves only once dist/ is built.
const consumers = join(root, 'examples/types');
const tsc = join(root, 'node_modules/typescript/bin/tsc');

/** nodemailer's majors, the types each one is used with, and the consumer file that states what to expect. */
const ROWS = [
  { major: '6', packages: ['nodemailer@6', '@types/nodemailer@6.4'], consumer: 'definitely-typed.ts' },
  { major: '7', packages: ['nodemailer@7', '@types/nodemailer@7.0'], consumer: 'definitely-typed.ts' },
  { major: '8', packages: ['nodemailer@8', '@types/nodemailer@8.0'], consumer: 'definitely-typed.ts' },
  // nodemailer 9 ships no types either; @types/nodemailer 8.0 is the newest there is.
  { major: '9', packages: ['nodemailer@9', '@types/nodemailer@8.0'], consumer: 'definitely-typed.ts' },
  { major: '10', packages: ['nodemailer@10'], consumer: 'own-types.ts' },
];

const COMMON = {
  target: 'ES2022',
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noEmit: true,
  types: ['node'],
  // Our .d.ts files are checked; other packages' are not ours to fix.
  skipLibCheck: false,
};

const MODES = {
  'ESM, nodenext': { file: 'consumer.mts', options: { module: 'NodeNext', moduleResolution: 'NodeNext' } },
  'CommonJS, nodenext': { file: 'consumer.cts', options: { module: 'NodeNext', moduleResolution: 'NodeNext' } },
  'CommonJS, node10': { file: 'consumer.ts', options: { module: 'CommonJS', moduleResolution: 'node10', esModuleInterop: true } },
};

function run(command, args, cwd) {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

if (!existsSync(join(root, 'dist/index.d.ts')) || !existsSync(join(root, 'dist/index.d.cts'))) {
  console.error('dist/ has no type declarations: run `npm run build` first.');
  process.exit(1);
}

const wanted = process.argv.slice(2);
const rows = wanted.length ? ROWS.filter((row) => wanted.includes(row.major)) : ROWS;
const work = mkdtempSync(join(tmpdir(), 'nodemailer-resilient-types-'));
let passed = 0;
let failed = 0;
try {
  const packed = run('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', work], root).trim().split('\n').pop();
  const tarball = join(work, packed);
  for (const row of rows) {
    const dir = join(work, `nodemailer-${row.major}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `types-nodemailer-${row.major}`, private: true }));
    run('npm', ['install', '--silent', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', ...row.packages, '@types/node@20', 'expect-type@1', tarball], dir);
    const version = JSON.parse(run('node', ['-p', 'JSON.stringify(require("nodemailer/package.json").version)'], dir));
    for (const [mode, { file, options }] of Object.entries(MODES)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      copyFileSync(join(consumers, row.consumer), join(dir, file));
      const config = join(dir, `tsconfig.${file}.json`);
      writeFileSync(config, JSON.stringify({ compilerOptions: { ...COMMON, ...options }, files: [file] }, null, 2));
      const label = `nodemailer ${version} (${row.packages.slice(1).join(', ') || 'own types'}), ${mode}`;
      try {
        run('node', [tsc, '-p', config], dir);
        passed++;
        console.log(`ok   ${label}`);
      } catch (err) {
        failed++;
        console.log(`FAIL ${label}\n${String(err.stdout ?? '')}${String(err.stderr ?? '')}`);
      }
    }
  }
} finally {
  if (!process.env.KEEP_TYPES_MATRIX) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
console.log(`types: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
