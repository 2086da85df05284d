#!/usr/bin/env node
// Installs the packed tarball into an empty folder and sends a message from
// require() and from import(), each in its own process that must exit by
// itself. A CommonJS build that left p-retry (ESM-only) external passes
// publint and attw and still fails here ("p_retry.default is not a function").
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { runNode } from './lib/run-node.mjs';

const root = resolve(import.meta.dirname, '..');
const nodemailerVersion = process.argv[2] ?? 'latest';
const work = mkdtempSync(join(tmpdir(), 'nmr-pack-'));
const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop();
writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'smoke', private: true }));
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', join(work, tarball), `nodemailer@${nodemailerVersion}`], { cwd: work, stdio: 'inherit' });

// The first RCPT of each message gets a 451, so the send only succeeds through a retry (p-retry's code path).
const seen = new Set();
const received = [];
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  disableReverseLookup: true,
  logger: false,
  onRcptTo(address, session, callback) {
    const key = `${session.envelope.mailFrom.address}`;
    if (!seen.has(key)) {
      seen.add(key);
      return callback(Object.assign(new Error('4.7.1 Greylisted, try again'), { responseCode: 451 }));
    }
    callback();
  },
  onData(stream, session, callback) {
    stream.resume();
    stream.on('end', () => {
      received.push(session.envelope.mailFrom.address);
      callback();
    });
  },
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.server.address().port;

const send = (from) => `transporter.sendMail({ from: '${from}', to: 'to@example.net', subject: 'smoke', text: 'hi' })
  .then((info) => console.log('sent', info.accepted.join(','), 'ehlo-ok'), (err) => { console.error(err); process.exitCode = 1; });`;
const options = `{ host: '127.0.0.1', port: ${port}, retry: { retries: 2, minTimeout: 10 } }`;
const cases = {
  'require()': ['-e', `const nodemailer = require('nodemailer'); const { resilient, isMailError } = require('nodemailer-resilient');
    if (typeof isMailError !== 'function') throw new Error('no guards');
    const transporter = nodemailer.createTransport(resilient(${options})); ${send('cjs@cjs.example')}`],
  'import()': ['--input-type=module', '-e', `import nodemailer from 'nodemailer'; import { resilient } from 'nodemailer-resilient';
    const transporter = nodemailer.createTransport(resilient(${options})); ${send('esm@esm.example')}`],
};

let passed = 0;
let failed = 0;
for (const [name, args] of Object.entries(cases)) {
  // No timer or socket may keep the process alive after the send: it must exit by itself.
  const child = await runNode(args, { cwd: work });
  const ok = child.status === 0 && /sent to@example\.net/.test(child.stdout);
  console.log(`${ok ? 'ok' : 'FAILED'}: send from ${name} with nodemailer ${nodemailerVersion}${child.signal ? ` (killed: ${child.signal}, did not exit by itself)` : ''}`);
  if (!ok) console.log(child.stdout, child.stderr);
  ok ? passed++ : failed++;
}
if (received.length !== 2) {
  console.log(`FAILED: expected 2 deliveries, got ${received.length}`);
  failed++;
} else passed++;
server.close();
rmSync(work, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
