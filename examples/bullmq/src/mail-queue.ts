import { Queue, Worker } from 'bullmq';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { resilient } from 'nodemailer-resilient';
import { createBackoffStrategy, throwForQueue } from 'nodemailer-resilient/bullmq';

const connection = { host: process.env.REDIS_HOST, port: Number(process.env.REDIS_PORT) };

const transporter = nodemailer.createTransport(
  resilient({
    host: process.env.SMTP_HOST,
    port: process.env.SMTP_PORT,
    // One quick retry for a dropped connection inside the job; the queue does the slow retries.
    retry: { retries: 1, minTimeout: 1_000, maxRetryTime: 5_000 },
  }),
);

export const mailQueue = new Queue<SendMailOptions>('mail', {
  connection,
  // 'custom', not 'exponential': BullMQ calls settings.backoffStrategy only for a type it has no strategy of its own for.
  defaultJobOptions: { attempts: 5, backoff: { type: 'custom' } },
});

export const mailWorker = new Worker<SendMailOptions>(
  'mail',
  async (job) => {
    // A permanent failure (550, bad credentials) is rethrown as an UnrecoverableError: no more attempts.
    const info = await transporter.sendMail(job.data).catch(throwForQueue);
    return { messageId: info.messageId };
  },
  {
    connection,
    // 30 s, 60 s, 120 s... after a deferral; 5 min, 10 min... after "slow down" (421, rate limits).
    settings: { backoffStrategy: createBackoffStrategy({ delay: Number(process.env.MAIL_RETRY_DELAY_MS) || undefined }) },
  },
);
