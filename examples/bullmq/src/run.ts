/**
 * Runs src/mail-queue.ts against a real Redis (REDIS_PORT, started by
 * examples/run-all.sh) and an in-process smtp-server: a refused recipient
 * fails its job after one attempt; a deferral is retried by the queue and
 * delivered once. Exits non-zero on failure.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { QueueEvents } from 'bullmq';
import { SMTPServer } from 'smtp-server';

if (!process.env.REDIS_PORT) throw new Error('Set REDIS_PORT to a running redis-server (examples/run-all.sh starts one).');

const rcpt = new Map<string, number>();
const delivered: string[] = [];
let deferrals = 2;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onRcptTo: (address, _session, callback) => {
    rcpt.set(address.address, (rcpt.get(address.address) ?? 0) + 1);
    if (address.address === 'nobody@example.net') return callback(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 }));
    // Deferred twice: once for the job's first attempt, once for the library's own retry inside it.
    if (address.address === 'greylisted@example.net' && deferrals-- > 0) {
      return callback(Object.assign(new Error('4.7.1 Greylisted, try again later'), { responseCode: 451 }));
    }
    callback();
  },
  onData: (stream, session, callback) => {
    stream.resume();
    stream.on('end', () => {
      delivered.push(...session.envelope.rcptTo.map((r) => r.address));
      callback();
    });
  },
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
Object.assign(process.env, {
  REDIS_HOST: '127.0.0.1',
  SMTP_HOST: '127.0.0.1',
  SMTP_PORT: String((server.server.address() as AddressInfo).port),
  MAIL_RETRY_DELAY_MS: '100',
});

const { mailQueue, mailWorker } = await import('./mail-queue.js');
const events = new QueueEvents('mail', { connection: { host: '127.0.0.1', port: Number(process.env.REDIS_PORT) } });
await Promise.all([mailWorker.waitUntilReady(), events.waitUntilReady(), mailQueue.obliterate({ force: true })]);

async function settle(to: string) {
  const job = await mailQueue.add('welcome', { from: 'app@example.com', to, subject: 'Welcome', text: 'Hello' });
  await job.waitUntilFinished(events).catch(() => undefined);
  const done = (await mailQueue.getJob(job.id!))!;
  return { state: await done.getState(), attemptsMade: done.attemptsMade, failedReason: done.failedReason };
}

const steps: Array<[string, () => Promise<void>]> = [
  ['a refused recipient fails its job after one attempt, not five', async () => {
    const job = await settle('nobody@example.net');
    assert.deepEqual({ state: job.state, attemptsMade: job.attemptsMade }, { state: 'failed', attemptsMade: 1 });
    assert.match(job.failedReason ?? '', /^RecipientsRejectedError: /);
    assert.equal(rcpt.get('nobody@example.net'), 1);
  }],
  ['a deferral is retried by the queue and delivered exactly once', async () => {
    const job = await settle('greylisted@example.net');
    assert.deepEqual({ state: job.state, attemptsMade: job.attemptsMade }, { state: 'completed', attemptsMade: 2 });
    assert.equal(rcpt.get('greylisted@example.net'), 3);
    assert.deepEqual(delivered, ['greylisted@example.net']);
  }],
  ['the entry point loads with require() too', async () => {
    const cjs = createRequire(import.meta.url)('nodemailer-resilient/bullmq') as Record<string, unknown>;
    assert.equal(typeof cjs['throwForQueue'], 'function');
    assert.equal(typeof cjs['createBackoffStrategy'], 'function');
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
await mailWorker.close();
await events.close();
await mailQueue.obliterate({ force: true });
await mailQueue.close();
server.close();
console.log(`bullmq: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
