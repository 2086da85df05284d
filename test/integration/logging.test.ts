import nodemailer from 'nodemailer';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import winston from 'winston';
import { resilient } from '../../src/index.js';
import { startTestServer, type TestServer } from '../helpers/smtp-server.js';

const mail = { from: 'app@example.com', to: 'someone@example.net', subject: 'hi', text: 'hello' };

/** A password no test could contain by chance, and the forms it travels in on the wire. */
function randomSecret(user: string): { pass: string; forms: string[] } {
  const pass = `pw-${crypto.randomUUID()}`;
  return {
    pass,
    forms: [pass, Buffer.from(pass).toString('base64'), Buffer.from(`\u0000${user}\u0000${pass}`).toString('base64')],
  };
}

function pinoCapture(): { logger: pino.Logger; records: () => Array<Record<string, unknown>>; raw: () => string } {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  return { logger, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>), raw: () => lines.join('') };
}

const ours = (records: Array<Record<string, unknown>>) => records.filter((r) => r['component'] === 'nodemailer-resilient');

describe('logging', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('gives a pino logger a structured, secret-free record when AUTH is refused', async () => {
    const { pass, forms } = randomSecret('user');
    server = await startTestServer({ tls: 'plain', auth: 'required', user: 'user', pass: 'not-this-one' });
    const { logger, records, raw } = pinoCapture();
    const transporter = nodemailer.createTransport(
      // debug: true makes nodemailer log the SMTP transcript, AUTH included, through the same logger.
      resilient({ host: '127.0.0.1', port: server.port, auth: { user: 'user', pass }, logger, debug: true, breaker: false }),
    );
    await expect(transporter.sendMail(mail)).rejects.toMatchObject({ name: 'AuthError', retryable: false });

    const failed = ours(records()).find((r) => r['event'] === 'failed');
    expect(failed).toMatchObject({
      level: 50,
      destination: `127.0.0.1:${server.port}`,
      attempt: 1,
      errorClass: 'AuthError',
      retryable: false,
      code: 'EAUTH',
      responseCode: 535,
    });
    expect(failed?.['msg']).toMatch(/^send failed: AuthError: /);
    // The transcript reached the logger too (so the check below covers it) ...
    expect(raw()).toContain('AUTH PLAIN');
    // ... and no form of the password did.
    for (const form of forms) expect(raw()).not.toContain(form);
  });

  it('logs each retry with the attempt, the error class and retryable', async () => {
    const { pass, forms } = randomSecret('user');
    const replies = [{ code: 451, message: '4.7.1 Greylisted, try again later' }];
    server = await startTestServer({ tls: 'plain', auth: 'required', user: 'user', pass, onRcptTo: () => replies.shift() });
    const { logger, records, raw } = pinoCapture();
    const transporter = nodemailer.createTransport(
      resilient({
        host: '127.0.0.1',
        port: server.port,
        auth: { user: 'user', pass },
        logger,
        breaker: false,
        retry: { retries: 2, minTimeout: 10, randomize: false },
      }),
    );
    const info = await transporter.sendMail(mail);

    const retry = ours(records()).find((r) => r['event'] === 'retry');
    expect(retry).toMatchObject({
      level: 40,
      destination: `127.0.0.1:${server.port}`,
      messageId: info.messageId,
      attempt: 2,
      errorClass: 'RecipientsRejectedError',
      retryable: true,
      responseCode: 451,
    });
    expect(typeof retry?.['delayMs']).toBe('number');
    expect(ours(records()).some((r) => r['event'] === 'failed')).toBe(false);
    expect(server.messages).toHaveLength(1);
    for (const form of forms) expect(raw()).not.toContain(form);
  });

  it('gives a winston logger the message first and the same fields as metadata', async () => {
    const { pass, forms } = randomSecret('user');
    server = await startTestServer({ tls: 'plain', auth: 'required', user: 'user', pass: 'not-this-one' });
    const entries: Array<Record<string, unknown>> = [];
    const capture = new winston.transports.Stream({
      stream: new (await import('node:stream')).Writable({
        objectMode: true,
        write(chunk: Record<string, unknown>, _encoding, callback) {
          entries.push(chunk);
          callback();
        },
      }),
    });
    const logger = winston.createLogger({ level: 'debug', transports: [capture] });
    const transporter = nodemailer.createTransport(
      resilient({ host: '127.0.0.1', port: server.port, auth: { user: 'user', pass }, logger, breaker: false }),
    );
    await expect(transporter.sendMail(mail)).rejects.toMatchObject({ name: 'AuthError' });

    const failed = entries.find((e) => e['event'] === 'failed');
    expect(failed).toMatchObject({
      level: 'error',
      component: 'nodemailer-resilient',
      destination: `127.0.0.1:${server.port}`,
      attempt: 1,
      errorClass: 'AuthError',
      retryable: false,
    });
    expect(failed?.['message']).toMatch(/^send failed: AuthError: /);
    const dump = JSON.stringify(entries);
    for (const form of forms) expect(dump).not.toContain(form);
  });

  it('takes a bunyan-style logger as nodemailer does: fields first, then the message', async () => {
    server = await startTestServer({ tls: 'plain', onRcptTo: () => ({ code: 550, message: '5.1.1 No such user' }) });
    const calls: Array<{ level: string; args: unknown[] }> = [];
    const method = (level: string) => (...args: unknown[]) => void calls.push({ level, args });
    const logger = { info: method('info'), warn: method('warn'), error: method('error'), debug: method('debug') };
    const transporter = nodemailer.createTransport(resilient({ host: '127.0.0.1', port: server.port, logger, breaker: false }));
    await expect(transporter.sendMail(mail)).rejects.toMatchObject({ name: 'RecipientsRejectedError' });

    const failed = calls.find((c) => (c.args[0] as Record<string, unknown> | undefined)?.['event'] === 'failed');
    expect(failed?.level).toBe('error');
    expect(failed?.args[0]).toMatchObject({ errorClass: 'RecipientsRejectedError', retryable: false, responseCode: 550 });
    expect(failed?.args[1]).toMatch(/^send failed: RecipientsRejectedError: /);
  });
});
