import { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { resetDestinations, resilient, type RetryEvent } from '../../src/index.js';
import { startFaultServer, type FaultServer } from '../helpers/fault-server.js';

const servers: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  resetDestinations();
});

async function faultServer(options: Parameters<typeof startFaultServer>[0]) {
  const server = await startFaultServer(options);
  servers.push(server);
  return server;
}

const base = (server: FaultServer) => ({ host: server.host, port: server.port, secure: false, ignoreTLS: true, breaker: false as const });
const mail = (id: string, extra: Record<string, unknown> = {}) => ({ from: 'app@example.com', to: 'user@example.net', subject: 's', text: 'hello', messageId: `<${id}@test>`, ...extra });

describe('retries', () => {
  it('reports each retry with its attempt, the observed delay and the error', async () => {
    const server = await faultServer({ faults: { phase: 'rcpt', action: { reply: '451 4.7.1 Greylisted' }, times: 2 } });
    const events: RetryEvent[] = [];
    const transport = resilient({ ...base(server), retry: { retries: 3, minTimeout: 20, randomize: false }, onRetry: (e) => events.push(e) });
    await nodemailer.createTransport(transport).sendMail(mail('retry-events'));
    expect(events.map((e) => e.attempt)).toEqual([2, 3]);
    expect(events.every((e) => e.error.name === 'RecipientsRejectedError' && e.messageId === '<retry-events@test>')).toBe(true);
    expect(events[0]!.delayMs).toBeGreaterThanOrEqual(15);
    expect(server.counts('<retry-events@test>')).toEqual({ received: 1, acknowledged: 1 });
  });

  it('stops retrying when the caller aborts, with an AbortError', async () => {
    const server = await faultServer({ faults: { phase: 'mail', action: { reply: '451 4.3.0 Try later' }, times: Infinity } });
    const controller = new AbortController();
    const transport = resilient({ ...base(server), retry: { retries: 5, minTimeout: 200, randomize: false } });
    transport.on('retry', () => controller.abort());
    const err = await nodemailer
      .createTransport(transport)
      .sendMail(mail('abort', { signal: controller.signal }))
      .catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'AbortError' });
    // the first attempt, and at most the one that had started when the signal fired
    expect(server.connections).toBeLessThanOrEqual(2);
  });

  it('does not retry a message whose content is a stream, and says why', async () => {
    const server = await faultServer({ faults: { phase: 'mail', action: { reply: '451 4.3.0 Try later' } } });
    const transport = resilient({ ...base(server), retry: { retries: 3, minTimeout: 1 } });
    const err = await nodemailer
      .createTransport(transport)
      .sendMail(mail('stream', { text: Readable.from(['streamed body']) }))
      .catch((e: Error & { hint: string; attempts: number }) => e);
    expect(err).toMatchObject({ name: 'SenderRejectedError', retryable: true, attempts: 1 });
    expect((err as { hint: string }).hint).toMatch(/stream, which cannot be read twice/);
    expect(server.connections).toBe(1);
  });

  it('rebuilds an attachment from its source on each attempt', async () => {
    const server = await faultServer({ faults: { phase: 'body', action: 'drop' } });
    const transport = resilient({ ...base(server), retry: { retries: 2, minTimeout: 1 } });
    const content = 'x'.repeat(9 * 1024 * 1024); // larger than loopback buffers, so the drop is mid-body
    await nodemailer.createTransport(transport).sendMail(mail('attach', { attachments: [{ filename: 'a.txt', content }] }));
    expect(server.counts('<attach@test>')).toEqual({ received: 1, acknowledged: 1 });
  });

  it('counts attempts once with a pool: the pool does not requeue underneath', async () => {
    const server = await faultServer({ faults: { phase: 'data', action: 'drop', times: Infinity } });
    const transporter = nodemailer.createTransport(resilient({ ...base(server), pool: true, retry: { retries: 2, minTimeout: 1 } }));
    const err = await transporter.sendMail(mail('pool')).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'ConnectionError', attempts: 3 });
    expect(server.connections).toBe(3);
    transporter.close();
  });
});

describe('partial recipients', () => {
  it('succeed with info.rejected as nodemailer reports it, and accepted recipients are not sent to again', async () => {
    const server = await faultServer({ faults: { phase: 'rcpt', recipient: 'later@example.net', action: { reply: '451 4.7.1 Greylisted' } } });
    const transporter = nodemailer.createTransport(resilient({ ...base(server), retry: { retries: 2, minTimeout: 1 } }));
    const info = await transporter.sendMail(mail('partial', { to: ['now@example.net', 'later@example.net'] }));
    expect(info.accepted).toEqual(['now@example.net']);
    expect(info.rejected).toEqual(['later@example.net']);
    expect(info.rejectedErrors?.[0]).toMatchObject({ responseCode: 451, recipient: 'later@example.net' });
    expect(server.stats.recipients.get('now@example.net')).toEqual({ received: 1, acknowledged: 1 });
    expect((info as { deferred?: unknown }).deferred).toBeUndefined();
  });

  it('retries 4xx-deferred recipients alone with retryDeferredRecipients, and says what became of them', async () => {
    const server = await faultServer({ faults: { phase: 'rcpt', recipient: 'later@example.net', action: { reply: '451 4.7.1 Greylisted' } } });
    const transporter = nodemailer.createTransport(resilient({ ...base(server), retry: { retries: 2, minTimeout: 1 }, retryDeferredRecipients: true }));
    const info = await transporter.sendMail(mail('deferred', { to: ['now@example.net', 'later@example.net', 'gone@example.net'] }));
    expect(info.accepted).toEqual(['now@example.net', 'gone@example.net']);
    expect((info as { deferred?: unknown }).deferred).toMatchObject({ recipients: ['later@example.net'], delivered: ['later@example.net'], failed: [] });
    expect(server.stats.recipients.get('now@example.net')).toEqual({ received: 1, acknowledged: 1 });
    expect(server.counts('<deferred@test>')).toEqual({ received: 2, acknowledged: 2 });
  });
});
