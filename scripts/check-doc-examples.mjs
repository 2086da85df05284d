#!/usr/bin/env node
// Every code example in README.md and docs/ that is marked
// `<!-- example: path -->` must be the file at that path, character for
// character; the quick-start files are then run against an embedded SMTP
// server, as ESM and as CommonJS, through the package's own name.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { runNode } from './lib/run-node.mjs';

const root = resolve(import.meta.dirname, '..');
const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
let passed = 0;
let failed = 0;
const check = (ok, text) => {
  console.log(`${ok ? 'ok' : 'FAILED'}: ${text}`);
  ok ? passed++ : failed++;
};

for (const doc of docs) {
  const text = readFileSync(join(root, doc), 'utf8');
  for (const match of text.matchAll(/<!-- example: (\S+) -->\s*```[a-z]*\n([\s\S]*?)```/g)) {
    const [, path, block] = match;
    let file = '';
    try {
      file = readFileSync(join(root, path), 'utf8');
    } catch {
      /* reported below */
    }
    check(file.trim() === block.trim(), `${doc}: the example is ${path} as committed`);
  }
}

const delivered = [];
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  disableReverseLookup: true,
  logger: false,
  onData(stream, session, callback) {
    stream.resume();
    stream.on('end', () => (delivered.push(session.hostNameAppearsAs), callback()));
  },
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const env = { ...process.env, SMTP_HOST: '127.0.0.1', SMTP_PORT: String(server.server.address().port), SMTP_USERNAME: '', SMTP_PASSWORD: '' };

for (const file of ['examples/quick-start.mjs', 'examples/quick-start.cjs']) {
  const { status, stdout, stderr } = await runNode([file], { cwd: root, env });
  const out = stdout + stderr;
  check(status === 0 && /sent </.test(out), `${file} sends through the package's own name and exits by itself${status ? `\n${out}` : ''}`);
}
check(delivered.length === 2 && delivered.every((name) => name === 'myapp.example'), `both examples delivered with EHLO myapp.example (got ${delivered.join(', ')})`);
server.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
