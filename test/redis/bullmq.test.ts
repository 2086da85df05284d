import { type Job, Queue, QueueEvents, Worker } from 'bullmq';
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { ResilientOptions } from '../../src/index.js';
import { resilient } from '../../src/index.js';
import { type BackoffStrategy, createBackoffStrategy, throwForQueue } from '../../src/integrations/bullmq.js';
import { startTestServer, type TestServer } from '../helpers/smtp-server.js';

const connection = { host: '127.0.0.1', port: inject('redisPort') };

interface MailJob {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId: string;
}

type Reply = { code: number; message: string };

/** One queue, its worker and an smtp-server whose replies each test scripts. */
interface Rig {
  server: TestServer;
  queue: Queue<MailJob>;
  events: QueueEvents;
  worker: Worker<MailJob>;
  /** Every delay the backoff strategy returned, with the error class it was given. */
  backoffs: Array<{ errorClass: string | undefined; delay: number }>;
  /** RCPT TO commands seen, per recipient. */
  rcpt: Map<string, number>;
  /** SMTP connections accepted. */
  connections: () => number;
  add(to: string, opts: Parameters<Queue<MailJob>['add']>[2]): Promise<Job<MailJob>>;
  delivered(messageId: string): number;
  close(): Promise<void>;
}

async function startRig(options: {
  onConnect?: () => Reply | undefined;
  onRcptTo?: (address: string) => Reply | undefined;
  library?: Pick<ResilientOptions, 'retry'>;
}): Promise<Rig> {
  const rcpt = new Map<string, number>();
  let connections = 0;
  const server = await startTestServer({
    tls: 'plain',
    onRcptTo: (address) => {
      rcpt.set(address, (rcpt.get(address) ?? 0) + 1);
      return options.onRcptTo?.(address);
    },
    extra: {
      onConnect(_session, callback) {
        connections++;
        const reply = options.onConnect?.();
        callback(reply ? Object.assign(new Error(reply.message), { responseCode: reply.code }) : undefined);
      },
    },
  });
  const transporter = nodemailer.createTransport(
    resilient({ host: '127.0.0.1', port: server.port, breaker: false, retry: false, ...options.library }),
  );
  const name = `mail-${crypto.randomUUID()}`;
  const queue = new Queue<MailJob>(name, { connection });
  const events = new QueueEvents(name, { connection });
  const backoffs: Rig['backoffs'] = [];
  const strategy = createBackoffStrategy({ delay: 50, throttledDelay: 400, jitter: 0 });
  const recording: BackoffStrategy = (attemptsMade, type, err, job) => {
    const delay = strategy(attemptsMade, type, err, job);
    backoffs.push({ errorClass: err?.name, delay });
    return delay;
  };
  const worker = new Worker<MailJob>(
    name,
    // The whole integration, as an app writes it.
    async (job) => {
      const { messageId, ...mail } = job.data;
      await transporter.sendMail({ ...mail, messageId }).catch(throwForQueue);
    },
    { connection, settings: { backoffStrategy: recording } },
  );
  await Promise.all([worker.waitUntilReady(), events.waitUntilReady()]);
  return {
    server,
    queue,
    events,
    worker,
    backoffs,
    rcpt,
    connections: () => connections,
    add: (to, opts) =>
      queue.add('send', { from: 'app@example.com', to, subject: 'hi', text: 'hello', messageId: `<${crypto.randomUUID()}@example.com>` }, opts),
    delivered: (messageId) => server.messages.filter((m) => m.messageId === messageId).length,
    async close() {
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      transporter.close();
      await server.close();
    },
  };
}

/** Waits for the job to settle; returns how it ended, reloaded from Redis. */
async function settle(rig: Rig, job: Job<MailJob>): Promise<{ state: string; attemptsMade: number; failedReason: string | undefined }> {
  await job.waitUntilFinished(rig.events).catch(() => undefined);
  const fresh = (await rig.queue.getJob(job.id!))!;
  return { state: await fresh.getState(), attemptsMade: fresh.attemptsMade, failedReason: fresh.failedReason };
}

describe('BullMQ against a real Redis', () => {
  let rig: Rig | undefined;
  beforeEach(() => {
    rig = undefined;
  });
  afterEach(async () => {
    await rig?.close();
  });

  it.each([
    ['custom backoff', { type: 'custom' }],
    ["Docmost's exponential backoff", { type: 'exponential', delay: 50 }],
  ])('fails a job after one attempt when the recipient is refused with a 550 (%s)', async (_label, backoff) => {
    rig = await startRig({ onRcptTo: () => ({ code: 550, message: '5.1.1 No such user' }) });
    const job = await rig.add('nobody@example.net', { attempts: 3, backoff });

    const outcome = await settle(rig, job);

    expect(outcome.state).toBe('failed');
    expect(outcome.attemptsMade).toBe(1);
    expect(outcome.failedReason).toMatch(/^RecipientsRejectedError: /);
    expect(rig.rcpt.get('nobody@example.net')).toBe(1);
    expect(rig.backoffs).toEqual([]);
    expect(rig.delivered(job.data.messageId)).toBe(0);
  });

  it('lets the queue retry a 451 with the backoff the error asks for, and delivers exactly once', async () => {
    const replies: Array<Reply | undefined> = [{ code: 451, message: '4.7.1 Greylisted, try again later' }];
    rig = await startRig({ onRcptTo: () => replies.shift() });
    const job = await rig.add('someone@example.net', { attempts: 3, backoff: { type: 'custom' } });

    const outcome = await settle(rig, job);

    expect(outcome.state).toBe('completed');
    expect(outcome.attemptsMade).toBe(2);
    expect(rig.backoffs).toEqual([{ errorClass: 'RecipientsRejectedError', delay: 50 }]);
    expect(rig.rcpt.get('someone@example.net')).toBe(2);
    expect(rig.delivered(job.data.messageId)).toBe(1);
  });

  it('waits longer after a throttling 421 than after an ordinary deferral', async () => {
    const greetings: Array<Reply | undefined> = [{ code: 421, message: '4.7.0 Too many connections, slow down' }];
    rig = await startRig({ onConnect: () => greetings.shift() });
    const job = await rig.add('someone@example.net', { attempts: 3, backoff: { type: 'custom' } });

    const outcome = await settle(rig, job);

    expect(outcome.state).toBe('completed');
    expect(outcome.attemptsMade).toBe(2);
    expect(rig.backoffs).toEqual([{ errorClass: 'ConnectionError', delay: 400 }]);
    expect(rig.delivered(job.data.messageId)).toBe(1);
  });

  it('delivers exactly once when the library retries a dropped first connection itself, in one queue attempt', async () => {
    const greetings: Array<Reply | undefined> = [{ code: 421, message: '4.3.2 Service shutting down' }];
    rig = await startRig({
      onConnect: () => greetings.shift(),
      library: { retry: { retries: 1, minTimeout: 10, randomize: false } },
    });
    const job = await rig.add('someone@example.net', { attempts: 3, backoff: { type: 'custom' } });

    const outcome = await settle(rig, job);

    expect(outcome.state).toBe('completed');
    expect(outcome.attemptsMade).toBe(1);
    expect(rig.backoffs).toEqual([]);
    expect(rig.connections()).toBe(2);
    expect(rig.delivered(job.data.messageId)).toBe(1);
  });

  it('ignores the custom strategy while the backoff type is exponential, yet still retries and delivers once', async () => {
    const replies: Array<Reply | undefined> = [{ code: 451, message: '4.3.0 Try again later' }];
    rig = await startRig({ onRcptTo: () => replies.shift() });
    const job = await rig.add('someone@example.net', { attempts: 3, backoff: { type: 'exponential', delay: 50 } });

    const outcome = await settle(rig, job);

    expect(outcome.state).toBe('completed');
    expect(outcome.attemptsMade).toBe(2);
    // BullMQ's own exponential strategy ran: ours was never asked.
    expect(rig.backoffs).toEqual([]);
    expect(rig.delivered(job.data.messageId)).toBe(1);
  });

  it('fails the job once the queue attempts run out on a server that keeps deferring', async () => {
    rig = await startRig({ onRcptTo: () => ({ code: 451, message: '4.3.0 Try again later' }) });
    const job = await rig.add('someone@example.net', { attempts: 2, backoff: { type: 'custom' } });

    const outcome = await settle(rig, job);

    expect(outcome.state).toBe('failed');
    expect(outcome.attemptsMade).toBe(2);
    expect(outcome.failedReason).toMatch(/all recipients were rejected|451/);
    expect(rig.rcpt.get('someone@example.net')).toBe(2);
    expect(rig.delivered(job.data.messageId)).toBe(0);
  });
});
