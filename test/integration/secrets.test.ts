import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskOptions, resilient, type ResilientOptions } from '../../src/index.js';
import { routeTo } from '../helpers/route.js';
import { startTestServer, type TestServer } from '../helpers/smtp-server.js';

const message = { from: 'app@example.com', to: 'user@example.net', subject: 'Secret test', text: 'hello' };

/** Every form a secret could leak in: as is, base64, and the AUTH PLAIN token. */
function forms(user: string, pass: string): string[] {
  return [pass, Buffer.from(pass).toString('base64'), Buffer.from(`\u0000${user}\u0000${pass}`).toString('base64')];
}

function capture() {
  const lines: string[] = [];
  const record = (...args: unknown[]) => lines.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 5 }))).join(' '));
  return { lines, logger: { trace: record, debug: record, info: record, warn: record, error: record, fatal: record } };
}

let authServer: TestServer;
let implicitTls: TestServer;

beforeAll(async () => {
  authServer = await startTestServer({ tls: 'starttls', auth: 'required', user: 'me@example.com', pass: 'the-right-one' });
  implicitTls = await startTestServer({ tls: 'implicit' });
});
afterAll(async () => {
  await authServer.close();
  await implicitTls.close();
});

describe('secrets never leave the library', () => {
  const paths: Array<[string, (pass: string) => ResilientOptions]> = [
    ['a refused login (535)', (pass) => ({ host: 'mail.test.example', port: 587, auth: { user: 'me@example.com', pass }, getSocket: routeTo(authServer.port), tls: { ca: [authServer.cert] } })],
    ['a refused connection', (pass) => ({ host: '127.0.0.1', port: 1, auth: { user: 'me@example.com', pass } })],
    ['a TLS mode mismatch', (pass) => ({ host: 'mail.test.example', port: 2587, secure: false, greetingTimeout: 300, auth: { user: 'me@example.com', pass }, getSocket: routeTo(implicitTls.port) })],
    ['an untrusted certificate', (pass) => ({ host: 'mail.test.example', port: 587, auth: { user: 'me@example.com', pass }, getSocket: routeTo(authServer.port) })],
    ['a URL with the password in it', (pass) => ({ url: `smtp://me%40example.com:${encodeURIComponent(pass)}@127.0.0.1:1` })],
  ];

  it.each(paths)('in the error, its JSON, inspect output and log lines, after %s', async (_title, build) => {
    const pass = `${randomBytes(12).toString('base64url')}!%`;
    const { lines, logger } = capture();
    const transport = resilient({ ...build(pass), logger, debug: true, retry: { retries: 1, minTimeout: 1 }, breaker: false });
    const events: unknown[] = [];
    transport.on('retry', (e) => events.push(e));
    const err = await nodemailer.createTransport(transport).sendMail(message).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    const outputs = [String(err), JSON.stringify(err), inspect(err, { depth: 6 }), (err as { hint?: string }).hint ?? '', ...lines, inspect(events, { depth: 6 }), JSON.stringify(maskOptions(build(pass)))];
    for (const secret of forms('me@example.com', pass)) {
      for (const output of outputs) expect(output).not.toContain(secret);
    }
  });
});
