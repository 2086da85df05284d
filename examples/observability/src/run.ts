/**
 * Sends through src/mailer.ts with tracing from src/tracing.ts against an
 * in-process smtp-server: a deferred send that is retried, then a refused
 * one. Checks pino's records and the spans, and that the password is in
 * neither. Exits non-zero on failure.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { createMailer } from './mailer.js';
import { startTracing } from './tracing.js';

const password = `pw-${crypto.randomUUID()}`;
let deferrals = 1;
const server = new SMTPServer({
  authOptional: false,
  allowInsecureAuth: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onAuth: (auth, _session, callback) =>
    auth.username === 'app' && auth.password === password ? callback(null, { user: 'app' }) : callback(new Error('Invalid login')),
  onRcptTo: (address, _session, callback) => {
    if (address.address === 'nobody@example.net') return callback(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 }));
    if (deferrals-- > 0) return callback(Object.assign(new Error('4.7.1 Greylisted, try again later'), { responseCode: 451 }));
    callback();
  },
  onData: (stream, _session, callback) => {
    stream.resume();
    stream.on('end', () => callback());
  },
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.server.address() as AddressInfo).port;
Object.assign(process.env, { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_USER: 'app', SMTP_PASS: password });

const lines: string[] = [];
const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((r) => r['component'] === 'nodemailer-resilient');
const exporter = new InMemorySpanExporter();
const provider = startTracing(exporter);
const mailer = createMailer(pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }));
const mail = { from: 'app@example.com', subject: 'Hello', text: 'Hello' };

const steps: Array<[string, () => Promise<void>]> = [
  ['a retried send logs the retry with its attempt, error class and retryable', async () => {
    const info = await mailer.sendMail({ ...mail, to: 'reader@example.net' });
    const retry = records().find((r) => r['event'] === 'retry');
    assert.ok(retry, `no retry record in:\n${lines.join('')}`);
    assert.equal(retry['module'], 'mail');
    assert.equal(retry['destination'], `127.0.0.1:${port}`);
    assert.equal(retry['messageId'], info.messageId);
    assert.equal(retry['attempt'], 2);
    assert.equal(retry['errorClass'], 'RecipientsRejectedError');
    assert.equal(retry['retryable'], true);
  }],
  ['the retried send is one span with an event per attempt', async () => {
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.name, 'send 127.0.0.1');
    assert.deepEqual(span?.events.map((e) => e.attributes?.['attempt']), [1, 2]);
    assert.equal(span?.attributes['server.port'], port);
    assert.equal(span?.status.code, SpanStatusCode.UNSET);
  }],
  ['a refused send logs the failure and marks its span as an error', async () => {
    await assert.rejects(mailer.sendMail({ ...mail, to: 'nobody@example.net' }), { name: 'RecipientsRejectedError' });
    const failed = records().find((r) => r['event'] === 'failed');
    assert.equal(failed?.['errorClass'], 'RecipientsRejectedError');
    assert.equal(failed?.['retryable'], false);
    assert.equal(failed?.['responseCode'], 550);
    const span = exporter.getFinishedSpans()[1];
    assert.equal(span?.status.code, SpanStatusCode.ERROR);
    assert.equal(span?.attributes['error.type'], 'RecipientsRejectedError');
    assert.equal(span?.attributes['nodemailer_resilient.retryable'], false);
  }],
  ['the password is in no log line and no span', async () => {
    const everything = lines.join('') + JSON.stringify(exporter.getFinishedSpans().map((s) => [s.attributes, s.events, s.status]));
    for (const form of [password, Buffer.from(password).toString('base64'), Buffer.from(`\u0000app\u0000${password}`).toString('base64')]) {
      assert.ok(!everything.includes(form), `found ${form}`);
    }
  }],
];

let passed = 0;
let failed = 0;
for (const [name, fn] of steps) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}\n${err instanceof Error ? err.stack : String(err)}`);
  }
}
mailer.close();
await provider.shutdown();
server.close();
console.log(`observability: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
