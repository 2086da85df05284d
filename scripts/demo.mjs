#!/usr/bin/env node
// The main job on an embedded default: real SMTP servers in this process
// reproduce the classic failures; plain nodemailer and resilient() each send
// the same message with the same (wrong) config, and the results are shown.
import net from 'node:net';
import nodemailer from 'nodemailer';
import { generate } from 'selfsigned';
import { SMTPServer } from 'smtp-server';
import { resilient, resetDestinations } from '../dist/index.js';

const color = process.stdout.isTTY ? (code, text) => `\u001b[${code}m${text}\u001b[0m` : (_code, text) => text;
const green = (t) => color(32, t);
const red = (t) => color(31, t);
const dim = (t) => color(2, t);
const bold = (t) => color(1, t);

const pems = await generate([{ name: 'commonName', value: 'mail.demo.example' }], {
  keyType: 'ec',
  days: 1,
  algorithm: 'sha256',
  extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'mail.demo.example' }, { type: 7, ip: '127.0.0.1' }] }],
});

async function server(options) {
  const srv = new SMTPServer({
    key: pems.private,
    cert: pems.cert,
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback());
    },
    ...options,
  });
  srv.on('error', () => undefined);
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { port: srv.server.address().port, close: () => new Promise((r) => srv.close(r)) };
}

// Lets the config say port 465 or 587 (so the port rules apply) while the
// connection goes to the embedded server's ephemeral port.
const routeTo = (port) => (_options, callback) => {
  const socket = net.connect(port, '127.0.0.1');
  socket.once('connect', () => callback(null, { connection: socket }));
  socket.once('error', callback);
};

const reply = (code, message) => Object.assign(new Error(message), { responseCode: code });
const isFqdn = (name) => /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(name) && !/localhost/i.test(name);
const greylisted = new Set();
const heloNames = [];

const servers = {
  implicitTls: await server({ secure: true, disabledCommands: ['AUTH'] }),
  startTls: await server({ disabledCommands: ['AUTH'] }),
  authOffered: await server({ onAuth: (_a, _s, cb) => cb(null, { user: 'x' }) }),
  strictHelo: await server({
    disabledCommands: ['AUTH', 'STARTTLS'],
    onRcptTo: (_address, session, cb) => {
      heloNames.push(session.hostNameAppearsAs);
      cb(isFqdn(session.hostNameAppearsAs) ? undefined : reply(504, `5.5.2 <${session.hostNameAppearsAs}>: Helo command rejected: need fully-qualified hostname`));
    },
  }),
  greylisting: await server({
    disabledCommands: ['AUTH', 'STARTTLS'],
    onRcptTo: (address, session, cb) => {
      // Greylisting: the first attempt from each client (by EHLO name) is deferred.
      const key = `${session.hostNameAppearsAs}:${address.address}`;
      if (!greylisted.has(key)) {
        greylisted.add(key);
        return cb(reply(451, `4.7.1 <${address.address}>: Recipient address rejected: Greylisted, try again`));
      }
      cb();
    },
  }),
  senderCheck: await server({
    disabledCommands: ['AUTH', 'STARTTLS'],
    onMailFrom: (address, _s, cb) => cb(address.address.endsWith('@verified.example') ? undefined : reply(550, 'This domain is not associated with your account')),
  }),
};

const ca = [pems.cert];
const cases = [
  {
    title: '`secure: false` on port 465 (implicit TLS)',
    config: { host: 'mail.demo.example', port: 465, secure: false },
    server: servers.implicitTls,
    plainExtra: { greetingTimeout: 3000 },
    note: 'plain nodemailer waits for a greeting that never comes (30 s by default; 3 s here)',
  },
  { title: '`secure: true` on port 587 (STARTTLS)', config: { host: 'mail.demo.example', port: 587, secure: true }, server: servers.startTls },
  {
    title: 'empty SMTP_USERNAME/SMTP_PASSWORD against a relay that needs no login',
    config: { host: 'mail.demo.example', port: 587, auth: { user: '', pass: '' } },
    server: servers.authOffered,
  },
  { title: 'EHLO name refused by a strict server (Postfix-style delayed rejection)', config: { host: 'mail.demo.example', port: 25 }, server: servers.strictHelo },
  { title: 'a 451 greylisting reply that a retry fixes', config: { host: 'mail.demo.example', port: 25, retry: { retries: 2, minTimeout: 200 } }, server: servers.greylisting },
  {
    title: 'sender domain not verified with the provider',
    config: { host: 'mail.demo.example', port: 25 },
    server: servers.senderCheck,
    note: 'no library can fix this one, but the error says what to do',
  },
];

const message = { from: 'App <no-reply@app.example>', to: 'user@example.net', subject: 'Welcome', text: 'Hello from the demo' };

async function attempt(send) {
  const started = performance.now();
  try {
    const info = await send();
    return { ok: true, ms: performance.now() - started, text: info.response };
  } catch (err) {
    return { ok: false, ms: performance.now() - started, err };
  }
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
let fixed = 0;
console.log(bold('nodemailer-resilient demo: the same message, the same config, plain nodemailer vs resilient()\n'));
for (const [index, c] of cases.entries()) {
  const { retry, ...plainConfig } = c.config;
  const route = { getSocket: routeTo(c.server.port), tls: { ca } };
  console.log(bold(`${index + 1}. ${c.title}`));
  console.log(dim(`   config: ${JSON.stringify(c.config)}`));
  const plain = await attempt(() => nodemailer.createTransport({ ...plainConfig, ...route, ...c.plainExtra }).sendMail(message));
  console.log(
    plain.ok
      ? `   plain nodemailer  ${green('delivered')} ${dim(seconds(plain.ms))}`
      : `   plain nodemailer  ${red('failed')}    ${plain.err.code ?? ''} ${String(plain.err.message).split('\n')[0].slice(0, 110)} ${dim(seconds(plain.ms))}`,
  );
  if (c.note) console.log(dim(`                     (${c.note})`));
  const transport = resilient({ ...c.config, ...route, retry: retry ?? false, breaker: false });
  let retries = 0;
  transport.on('retry', () => retries++);
  const wrapped = await attempt(() => nodemailer.createTransport(transport).sendMail(message));
  if (wrapped.ok) {
    fixed++;
    const how = retries ? ` after ${retries} retr${retries === 1 ? 'y' : 'ies'}` : '';
    console.log(`   resilient()       ${green('delivered')}${how} ${dim(seconds(wrapped.ms))}`);
  } else {
    console.log(`   resilient()       ${red('failed')}    ${wrapped.err.name}: ${String(wrapped.err.message).slice(0, 100)} ${dim(seconds(wrapped.ms))}`);
    console.log(`                     retryable: ${wrapped.err.retryable}; fix: ${wrapped.err.hint}`);
  }
  for (const report of transport.normalization) for (const change of report.changes) console.log(dim(`   normalised: ${change}`));
  if (c.server === servers.strictHelo) {
    console.log(dim(`   normalised: EHLO ${heloNames.at(-1)}, taken from the sender's domain (plain nodemailer sent ${heloNames[0]})`));
  }
  console.log('');
}
console.log(bold(`resilient() delivered ${fixed} of ${cases.length}; the one it could not deliver came back as a typed error with its fix.`));
console.log(dim('Next: `npm test` runs the test suite; docs/ explains every rule and error.'));
await Promise.all(Object.values(servers).map((s) => s.close()));
resetDestinations();
