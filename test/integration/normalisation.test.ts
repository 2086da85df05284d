import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isConfigError, resilient, type ResilientOptions } from '../../src/index.js';
import { routeTo } from '../helpers/route.js';
import { startTestServer, type TestServer } from '../helpers/smtp-server.js';

const message = { from: 'App <app@example.com>', to: 'user@example.net', subject: 'Hello', text: 'Hi there' };

let implicitTls: TestServer;
let startTls: TestServer;
let authOptional: TestServer;
let noAuth: TestServer;

beforeAll(async () => {
  [implicitTls, startTls, authOptional, noAuth] = await Promise.all([
    startTestServer({ tls: 'implicit', auth: 'none' }),
    startTestServer({ tls: 'starttls', auth: 'none' }),
    startTestServer({ tls: 'starttls', auth: 'optional', onRcptTo: (a) => (a.startsWith('nobody@') ? { code: 550, message: '5.1.1 User unknown' } : undefined) }),
    startTestServer({ tls: 'plain', auth: 'none' }),
  ]);
});
afterAll(async () => {
  await Promise.all([implicitTls, startTls, authOptional, noAuth].map((s) => s.close()));
});

/** Options as the app builds them, plus the test's routing to the real listener and its CA. */
function viaServer(server: TestServer, options: ResilientOptions): ResilientOptions {
  return { ...options, getSocket: routeTo(server.port), tls: { ...(options.tls ?? {}), ca: [server.cert] }, retry: false, breaker: false };
}

describe('the port decides the TLS mode', () => {
  it('delivers with implicit TLS on 465 although the app set secure: false (Docmost)', async () => {
    const before = implicitTls.messages.length;
    const transporter = nodemailer.createTransport(resilient(viaServer(implicitTls, { host: 'mail.test.example', port: 465, secure: false })));
    const info = await transporter.sendMail(message);
    expect(info.accepted).toEqual(['user@example.net']);
    expect(implicitTls.messages.length).toBe(before + 1);
    expect(implicitTls.messages.at(-1)?.secure).toBe(true);
  });

  it('where plain nodemailer with secure: false on 465 never gets a greeting', async () => {
    const transporter = nodemailer.createTransport({
      host: 'mail.test.example',
      port: 465,
      secure: false,
      greetingTimeout: 500,
      getSocket: routeTo(implicitTls.port),
    } as never);
    await expect(transporter.sendMail(message)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it("counts the string '465' like 465 (Strapi)", async () => {
    const transporter = nodemailer.createTransport(resilient(viaServer(implicitTls, { host: 'mail.test.example', port: '465' })));
    await expect(transporter.sendMail(message)).resolves.toMatchObject({ accepted: ['user@example.net'] });
    expect(implicitTls.messages.at(-1)?.secure).toBe(true);
  });

  it('upgrades with STARTTLS on 587 although the app set secure: true, and requires the upgrade (Outline)', async () => {
    const transport = resilient(viaServer(startTls, { host: 'mail.test.example', port: 587, secure: true }));
    const transporter = nodemailer.createTransport(transport);
    await expect(transporter.sendMail(message)).resolves.toMatchObject({ accepted: ['user@example.net'] });
    expect(startTls.messages.at(-1)?.secure).toBe(true);
    expect(transport.normalization[0]?.changes).toContain('port 587 uses STARTTLS: `secure: true` was ignored, STARTTLS is required');
  });

  it('refuses to send in plaintext when secure: true on 587 meets a server without STARTTLS', async () => {
    const before = noAuth.messages.length;
    const transporter = nodemailer.createTransport(resilient(viaServer(noAuth, { host: 'mail.test.example', port: 587, secure: true })));
    await expect(transporter.sendMail(message)).rejects.toMatchObject({ name: 'TlsError', retryable: false });
    expect(noAuth.messages.length).toBe(before);
  });

  it('where plain nodemailer with secure: true on 587 fails with wrong version number', async () => {
    const transporter = nodemailer.createTransport({ host: 'mail.test.example', port: 587, secure: true, getSocket: routeTo(startTls.port) } as never);
    await expect(transporter.sendMail(message)).rejects.toThrow(/wrong version number|packet length|ssl/i);
  });

  it('falls back as nodemailer does for port NaN (Docmost) and keeps other ports as given', async () => {
    const transporter = nodemailer.createTransport(resilient(viaServer(startTls, { host: 'mail.test.example', port: Number.NaN, secure: false })));
    await expect(transporter.sendMail(message)).resolves.toMatchObject({ accepted: ['user@example.net'] });
    const custom = nodemailer.createTransport(resilient(viaServer(implicitTls, { host: 'mail.test.example', port: 8465, secure: true })));
    await expect(custom.sendMail(message)).resolves.toMatchObject({ accepted: ['user@example.net'] });
  });

  it('can be turned off with normalize: { tlsFromPort: false }', async () => {
    const transporter = nodemailer.createTransport(
      resilient({ ...viaServer(implicitTls, { host: 'mail.test.example', port: 465, secure: false, greetingTimeout: 500 }), normalize: { tlsFromPort: false } }),
    );
    await expect(transporter.sendMail(message)).rejects.toMatchObject({ name: 'TlsError' });
  });
});

describe('empty credentials skip AUTH', () => {
  it('delivers with { user: undefined, pass: undefined } on port 25 (Typebot)', async () => {
    const transporter = nodemailer.createTransport(resilient(viaServer(noAuth, { host: 'mail.test.example', port: 25, auth: { user: undefined, pass: undefined } })));
    await expect(transporter.sendMail(message)).resolves.toMatchObject({ accepted: ['user@example.net'] });
  });

  it("delivers with '' credentials on 587 to a relay that offers AUTH without needing it (Typebot's test button)", async () => {
    const transporter = nodemailer.createTransport(resilient(viaServer(authOptional, { host: 'mail.test.example', port: 587, auth: { user: '', pass: '' } })));
    await expect(transporter.sendMail(message)).resolves.toMatchObject({ accepted: ['user@example.net'] });
    expect(authOptional.messages.at(-1)?.user).toBeFalsy();
  });

  it("where plain nodemailer fails with Missing credentials for \"PLAIN\"", async () => {
    const transporter = nodemailer.createTransport({
      host: 'mail.test.example',
      port: 587,
      auth: { user: '', pass: '' },
      getSocket: routeTo(authOptional.port),
      tls: { ca: [authOptional.cert] },
    } as never);
    await expect(transporter.sendMail(message)).rejects.toThrow(/Missing credentials/);
  });

  it("keeps info.rejected as nodemailer reports it with '' credentials on port 25 (Auth.js)", async () => {
    const transporter = nodemailer.createTransport(resilient(viaServer(authOptional, { host: 'mail.test.example', port: 25, auth: { user: '', pass: '' } })));
    const info = await transporter.sendMail({ ...message, to: ['user@example.net', 'nobody@example.net'] });
    expect(info.accepted).toEqual(['user@example.net']);
    expect(info.rejected).toEqual(['nobody@example.net']);
    expect(info.rejectedErrors?.[0]).toMatchObject({ responseCode: 550, command: 'RCPT TO' });
  });

  it('can be turned off with normalize: { dropEmptyAuth: false }', async () => {
    const transporter = nodemailer.createTransport(
      resilient({ ...viaServer(authOptional, { host: 'mail.test.example', port: 587, auth: { user: '', pass: '' } }), normalize: { dropEmptyAuth: false } }),
    );
    await expect(transporter.sendMail(message)).rejects.toMatchObject({ name: 'AuthError', code: 'EAUTH' });
  });
});

describe('the EHLO name comes from the sender', () => {
  it("uses the sender's domain, from defaults given to createTransport", async () => {
    const transporter = nodemailer.createTransport(resilient(viaServer(noAuth, { host: 'mail.test.example', port: 25 })), { from: 'Team <team@news.example.org>' });
    await transporter.sendMail({ to: 'user@example.net', subject: 'x', text: 'y' });
    expect(noAuth.messages.at(-1)?.ehlo).toBe('news.example.org');
  });

  it('prefers envelope.from over from', async () => {
    const transporter = nodemailer.createTransport(resilient(viaServer(noAuth, { host: 'mail.test.example', port: 25 })));
    await transporter.sendMail({ ...message, envelope: { from: 'bounces@bounce.example.com', to: 'user@example.net' } });
    expect(noAuth.messages.at(-1)?.ehlo).toBe('bounce.example.com');
  });

  it('uses each sender domain through one transport, pooled or not', async () => {
    for (const pool of [false, true]) {
      const transporter = nodemailer.createTransport(resilient(viaServer(noAuth, { host: 'mail.test.example', port: 25, pool })));
      await transporter.sendMail({ ...message, from: 'a@one.example' });
      const first = noAuth.messages.at(-1)?.ehlo;
      await transporter.sendMail({ ...message, from: 'b@two.example' });
      expect([first, noAuth.messages.at(-1)?.ehlo]).toEqual(['one.example', 'two.example']);
      transporter.close();
    }
  });

  it('keeps an explicit name (n8n), and an explicit localhost with a warning', async () => {
    const warn = vi.fn();
    const transporter = nodemailer.createTransport(resilient(viaServer(noAuth, { host: 'mail.test.example', port: 25, name: 'n8n.example.io' })));
    await transporter.sendMail(message);
    expect(noAuth.messages.at(-1)?.ehlo).toBe('n8n.example.io');
    const local = nodemailer.createTransport(
      resilient(viaServer(noAuth, { host: 'mail.test.example', port: 25, name: 'localhost', logger: { info: vi.fn(), warn, error: vi.fn() } })),
    );
    await local.sendMail(message);
    expect(noAuth.messages.at(-1)?.ehlo).toBe('localhost');
    expect(warn.mock.calls.some(([, text]) => /localhost/.test(String(text)))).toBe(true);
  });

  it('never derives localhost or a dotless name', async () => {
    const transporter = nodemailer.createTransport(resilient(viaServer(noAuth, { host: 'mail.test.example', port: 25 })));
    await transporter.sendMail({ ...message, from: 'root@localhost' });
    const name = noAuth.messages.at(-1)?.ehlo ?? '';
    expect(name).not.toBe('localhost');
    expect(name.includes('.') || name.startsWith('[')).toBe(true);
  });

  it('accepts a sender with a trailing space (Docmost)', async () => {
    const transporter = nodemailer.createTransport(resilient(viaServer(noAuth, { host: 'mail.test.example', port: 25 })));
    await expect(transporter.sendMail({ ...message, from: 'Docmost <noreply@docmost.example> ' })).resolves.toMatchObject({ accepted: ['user@example.net'] });
    expect(noAuth.messages.at(-1)?.ehlo).toBe('docmost.example');
  });
});

describe('configuration errors are found before any connection', () => {
  const bad: Array<[string, ResilientOptions | string, RegExp]> = [
    ['a non-numeric port', { host: 'mail.test.example', port: 'abc' }, /port/],
    ['an out-of-range port', { host: 'mail.test.example', port: 70000 }, /port/],
    ['exactly one empty credential', { host: 'mail.test.example', port: 587, auth: { user: 'me@example.com', pass: '' } }, /auth\.pass/],
    ['the auth.password typo', { host: 'mail.test.example', port: 587, auth: { user: 'me@example.com', password: 'x' } }, /auth\.pass\b/],
    ['no host at all', { port: 587 }, /host/],
    ['a string that is not an SMTP URL', 'mail.test.example:587', /URL/],
    ['secure: true with ignoreTLS on 587', { host: 'mail.test.example', port: 587, secure: true, ignoreTLS: true }, /ignoreTLS/],
    ['an unknown retry option', { host: 'mail.test.example', retry: { retires: 3 } as never }, /retry\.retires/],
    ['a breaker timeout that would abandon sends', { host: 'mail.test.example', breaker: { timeout: 10_000 } as never }, /breaker\.timeout/],
  ];

  it.each(bad)('throws ConfigError from resilient() for %s, and connects nowhere', async (_title, options, pattern) => {
    const before = noAuth.connections;
    let thrown: unknown;
    try {
      // Routed to a listener that counts connections: none may arrive.
      const routed = typeof options === 'string' ? options : { ...options, getSocket: routeTo(noAuth.port) };
      await nodemailer.createTransport(resilient(routed)).sendMail(message);
    } catch (err) {
      thrown = err;
    }
    expect(noAuth.connections).toBe(before);
    expect(isConfigError(thrown)).toBe(true);
    expect(thrown).toMatchObject({ name: 'ConfigError', code: 'ECONFIG', retryable: false });
    expect(String((thrown as Error).message)).toMatch(pattern);
    expect((thrown as { hint: string }).hint.length).toBeGreaterThan(10);
  });

  it("rejects sendMail for a sender that does not parse ('Docmost <undefined> ') without connecting", async () => {
    const before = noAuth.connections;
    const transporter = nodemailer.createTransport(resilient(viaServer(noAuth, { host: 'mail.test.example', port: 25 })));
    await expect(transporter.sendMail({ ...message, from: 'Docmost <undefined> ' })).rejects.toMatchObject({ name: 'ConfigError', code: 'ECONFIG' });
    await expect(transporter.sendMail({ ...message, from: undefined })).rejects.toMatchObject({ name: 'ConfigError' });
    expect(noAuth.connections).toBe(before);
  });

  it('reaches the callback exactly once for a message-level ConfigError', async () => {
    const transporter = nodemailer.createTransport(resilient(viaServer(noAuth, { host: 'mail.test.example', port: 25 })));
    const callback = vi.fn();
    // The transport goes idle once the send is settled and its callback returned.
    const idle = once(transporter, 'idle');
    transporter.sendMail({ ...message, from: 'undefined' }, callback);
    await idle;
    expect(callback).toHaveBeenCalledTimes(1);
    expect(callback.mock.calls[0]?.[0]).toMatchObject({ name: 'ConfigError' });
  });
});

describe('drop-in behaviour', () => {
  it("never writes into the caller's options object", () => {
    const options = Object.freeze({
      host: 'mail.test.example',
      port: 587,
      secure: true,
      auth: Object.freeze({ user: '', pass: '' }),
      retry: Object.freeze({ retries: 1 }),
    });
    const copy = JSON.stringify(options);
    resilient(options as ResilientOptions);
    expect(JSON.stringify(options)).toBe(copy);
  });

  it('returns exactly the info the inner transport returned', async () => {
    const plain = nodemailer.createTransport({ host: 'mail.test.example', port: 25, name: 'same.example', getSocket: routeTo(noAuth.port) } as never);
    const wrapped = nodemailer.createTransport(resilient(viaServer(noAuth, { host: 'mail.test.example', port: 25, name: 'same.example' })));
    const a = await plain.sendMail(message);
    const b = await wrapped.sendMail(message);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    expect(b.envelope).toEqual(a.envelope);
    expect(b.accepted).toEqual(a.accepted);
  });

  it('calls the sendMail callback exactly once with the info', async () => {
    const transporter = nodemailer.createTransport(resilient(viaServer(noAuth, { host: 'mail.test.example', port: 25 })));
    const callback = vi.fn();
    // The transport goes idle once the send is settled and its callback returned.
    const idle = once(transporter, 'idle');
    transporter.sendMail(message, callback);
    await idle;
    expect(callback).toHaveBeenCalledTimes(1);
    expect(callback.mock.calls[0]?.[0]).toBeNull();
  });

  it('verifies and closes through the wrapper, and a down server fails verify', async () => {
    const transporter = nodemailer.createTransport(resilient(viaServer(startTls, { host: 'mail.test.example', port: 587 })));
    await expect(transporter.verify()).resolves.toBe(true);
    transporter.close();
    const down = nodemailer.createTransport(resilient({ host: '127.0.0.1', port: 1, retry: false, breaker: false }));
    await expect(down.verify()).rejects.toMatchObject({ name: 'ConnectionError' });
  });

  it('verifies with the EHLO name of the default sender given to createTransport', async () => {
    let closed: (ehlo: string) => void = () => undefined;
    const ehlo = new Promise<string>((resolve) => (closed = resolve));
    const server = await startTestServer({ tls: 'plain', extra: { onClose: (session: { hostNameAppearsAs: string }) => closed(session.hostNameAppearsAs) } });
    try {
      const transporter = nodemailer.createTransport(resilient({ host: '127.0.0.1', port: server.port, retry: false, breaker: false }), {
        from: '"Sign-up <desk>" <hello@verify.example.net>',
      });
      await expect(transporter.verify()).resolves.toBe(true);
      transporter.close();
      await expect(ehlo).resolves.toBe('verify.example.net');
    } finally {
      await server.close();
    }
  });

  it('reports what it changed once, through the logger and as an event', async () => {
    const warn = vi.fn();
    const transport = resilient({ host: 'mail.test.example', port: 465, secure: false, auth: { user: '', pass: '' }, logger: { info: vi.fn(), warn, error: vi.fn() } });
    const events: unknown[] = [];
    transport.on('normalize', (report) => events.push(report));
    await Promise.resolve();
    expect(events).toHaveLength(1);
    const lines = warn.mock.calls.map(([, text]) => text);
    expect(lines).toContain('port 465 uses implicit TLS: `secure: false` was ignored, the connection starts with TLS');
    expect(lines).toContain('`auth.user` and `auth.pass` are empty: AUTH is skipped');
  });

  it('resolves smtp:// URLs as nodemailer does (Cal.com)', async () => {
    const transporter = nodemailer.createTransport(
      resilient({ url: 'smtp://127.0.0.1:587', getSocket: routeTo(startTls.port), tls: { ca: [startTls.cert] }, retry: false } as ResilientOptions),
    );
    await expect(transporter.sendMail(message)).resolves.toMatchObject({ accepted: ['user@example.net'] });
    expect(startTls.messages.at(-1)?.secure).toBe(true);
  });

  it('wraps the sendmail fallback without dialling SMTP (Cal.com)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmr-sendmail-'));
    const out = join(dir, 'out.eml');
    const path = join(dir, 'sendmail');
    writeFileSync(path, `#!/bin/sh\ncat > ${JSON.stringify(out)}\n`);
    chmodSync(path, 0o755);
    const transporter = nodemailer.createTransport(resilient({ sendmail: true, newline: 'unix', path }));
    await transporter.sendMail(message);
    expect(readFileSync(out, 'utf8')).toContain('Subject: Hello');
  });

  it('wraps a custom transport object and the JSON transport', async () => {
    const sent: unknown[] = [];
    const custom = { name: 'custom', version: '1', send: (mail: { data: unknown }, cb: (e: Error | null, info: unknown) => void) => (sent.push(mail.data), cb(null, { ok: true })) };
    await expect(nodemailer.createTransport(resilient({ transport: custom })).sendMail(message)).resolves.toEqual({ ok: true });
    expect(sent).toHaveLength(1);
    const json = await nodemailer.createTransport(resilient({ transport: { jsonTransport: true } })).sendMail(message);
    expect(JSON.parse((json as { message: string }).message)).toMatchObject({ subject: 'Hello' });
  });
});
