/**
 * An e-mail sign-in through Auth.js, as far as it goes without a browser:
 * GET the CSRF token, POST the sign-in form, read the magic link from the
 * mail the in-process smtp-server received, follow it, and read the session.
 * Then a refused address, and many sign-ins in a row. Exits non-zero on failure.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Auth } from '@auth/core';
import { SMTPServer } from 'smtp-server';
import { authConfig } from './auth.config.js';

const mails: Array<{ to: string[]; body: string }> = [];
const server = new SMTPServer({
  authOptional: false,
  allowInsecureAuth: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onAuth: (auth, _session, callback) =>
    auth.username === 'auth' && auth.password === 'secret' ? callback(null, { user: 'auth' }) : callback(new Error('Invalid login')),
  onRcptTo: (address, _session, callback) =>
    address.address === 'nobody@example.net' ? callback(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 })) : callback(),
  onData: (stream, session, callback) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      mails.push({ to: session.envelope.rcptTo.map((r) => r.address), body: Buffer.concat(chunks).toString() });
      callback();
    });
  },
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
Object.assign(process.env, {
  AUTH_SECRET: crypto.randomUUID(),
  EMAIL_SERVER_HOST: '127.0.0.1',
  EMAIL_SERVER_PORT: String((server.server.address() as AddressInfo).port),
  EMAIL_SERVER_USER: 'auth',
  EMAIL_SERVER_PASSWORD: 'secret',
  EMAIL_FROM: 'Example <no-reply@example.com>',
});

const loggedErrors: Error[] = [];
const config = { ...authConfig(), logger: { error: (error: Error) => void loggedErrors.push(error) } };
const warnings: Error[] = [];
process.on('warning', (warning) => warnings.push(warning));

const origin = 'http://localhost:3000';
const cookies = new Map<string, string>();
async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
  const response = await Auth(new Request(new URL(path, origin), { ...init, headers }), config);
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const [name, ...value] = pair!.split('=');
    cookies.set(name!, value.join('='));
  }
  return response;
}

async function signIn(email: string): Promise<Response> {
  const { csrfToken } = (await (await request('/auth/csrf')).json()) as { csrfToken: string };
  return request('/auth/signin/nodemailer', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, csrfToken, callbackUrl: `${origin}/dashboard` }),
  });
}

const causes = (error: unknown): string[] =>
  error instanceof Error ? [error.name, ...causes((error as Error & { cause?: unknown }).cause)] : [];

const steps: Array<[string, () => Promise<void>]> = [
  ['the sign-in form sends a magic link through resilient()', async () => {
    const response = await signIn('reader@example.net');
    assert.equal(response.status, 302);
    assert.match(response.headers.get('location') ?? '', /\/auth\/verify-request\?provider=nodemailer/);
    assert.equal(mails.length, 1);
    assert.deepEqual(mails[0]!.to, ['reader@example.net']);
  }],
  ['following the link signs the reader in', async () => {
    const body = mails[0]!.body.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    const link = /http:\/\/localhost:3000\/auth\/callback\/nodemailer\?[^\s"<>]+/.exec(body)?.[0];
    assert.ok(link, `no magic link in:\n${body}`);
    const response = await request(link.replace(/&amp;/g, '&'));
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), `${origin}/dashboard`);
    const session = (await (await request('/auth/session')).json()) as { user?: { email?: string } } | null;
    assert.equal(session?.user?.email, 'reader@example.net');
  }],
  ['a refused address ends on the error page, with the typed error as the cause', async () => {
    const response = await signIn('nobody@example.net');
    assert.equal(response.status, 302);
    assert.match(response.headers.get('location') ?? '', /\/auth\/error\?error=/);
    assert.equal(mails.length, 1);
    assert.ok(
      loggedErrors.some((e) => causes(e).includes('RecipientsRejectedError')),
      `logged: ${loggedErrors.map((e) => causes(e).join(' <- ')).join('; ')}`,
    );
  }],
  ['twenty sign-ins in a row leak no listeners (the provider calls createTransport(server) every time)', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await signIn(`reader${i}@example.net`)).status, 302);
    assert.equal(mails.length, 21);
    const transport = config.providers[0].options!.server as unknown as { listenerCount(event: string): number };
    assert.ok(transport.listenerCount('idle') <= 1, `${transport.listenerCount('idle')} 'idle' listeners on the shared transport`);
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), []);
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
server.close();
console.log(`authjs: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
