import type { BackoffStrategy as BullBackoffStrategy, WorkerOptions } from 'bullmq';
import nodemailer, { type SMTPSentMessageInfo, type SMTPTransportOptions, type Transporter } from 'nodemailer';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type AuthError,
  type CircuitOpenError,
  type MailError,
  type MailErrorName,
  type RecipientsRejectedError,
  isAuthError,
  isCircuitOpenError,
  isMailError,
  isRecipientsRejectedError,
  resilient,
} from '../../src/index.js';
import { backoffStrategy, toQueueError, type UnrecoverableMailError } from '../../src/integrations/bullmq.js';

describe('createTransport(resilient(options)) with nodemailer 10 own types', () => {
  const transporter = nodemailer.createTransport(resilient({ host: 'smtp.example.com', port: 587 }));

  it('is an SMTP transporter', () => {
    expectTypeOf(transporter).toEqualTypeOf<Transporter<SMTPSentMessageInfo, SMTPTransportOptions>>();
  });

  it('resolves sendMail() with SMTP send info', () => {
    expectTypeOf(transporter.sendMail).returns.resolves.toEqualTypeOf<SMTPSentMessageInfo>();
    expectTypeOf<SMTPSentMessageInfo['messageId']>().toEqualTypeOf<string>();
  });

  it('takes the same message fields as any transporter', () => {
    expectTypeOf(transporter.sendMail).parameter(0).toHaveProperty('to');
    expectTypeOf(transporter.sendMail).parameter(0).toHaveProperty('attachments');
  });

  it('takes a URL too', () => {
    expectTypeOf(nodemailer.createTransport(resilient('smtps://user:pass@smtp.example.com'))).toEqualTypeOf(transporter);
  });
});

describe('error guards', () => {
  it('narrow unknown to the class they name', () => {
    const err: unknown = new Error();
    if (isAuthError(err)) expectTypeOf(err).toEqualTypeOf<AuthError>();
    if (isRecipientsRejectedError(err)) {
      expectTypeOf(err).toEqualTypeOf<RecipientsRejectedError>();
      expectTypeOf(err.rejected).toEqualTypeOf<string[] | undefined>();
    }
    if (isCircuitOpenError(err)) expectTypeOf(err.retryAfterMs).toEqualTypeOf<number>();
  });

  it('isMailError gives the common fields', () => {
    const err: unknown = new Error();
    if (isMailError(err)) {
      expectTypeOf(err).toExtend<MailError>();
      expectTypeOf(err.name).toEqualTypeOf<MailErrorName>();
      expectTypeOf(err.retryable).toEqualTypeOf<boolean>();
      expectTypeOf(err.hint).toEqualTypeOf<string>();
      expectTypeOf(err.code).toEqualTypeOf<string>();
      expectTypeOf(err.responseCode).toEqualTypeOf<number | undefined>();
    }
  });

  it('narrow on name after isMailError, as ky-style literal names promise', () => {
    const err: unknown = new Error();
    if (isMailError(err) && err.name === 'CircuitOpenError') expectTypeOf(err.retryAfterMs).toEqualTypeOf<number>();
  });

  it('narrow a caught error in sendMail().catch()', async () => {
    const transporter = nodemailer.createTransport(resilient({ host: 'smtp.example.com' }));
    await transporter.sendMail({}).catch((err: unknown) => {
      if (isCircuitOpenError(err)) expectTypeOf(err).toEqualTypeOf<CircuitOpenError>();
    });
  });
});

describe('nodemailer-resilient/bullmq', () => {
  it('backoffStrategy fits BullMQ worker settings', () => {
    expectTypeOf(backoffStrategy).toExtend<BullBackoffStrategy>();
    expectTypeOf({ settings: { backoffStrategy } }).toExtend<Partial<WorkerOptions>>();
  });

  it('toQueueError takes whatever a catch gives it, and names its error for BullMQ', () => {
    expectTypeOf(toQueueError).parameter(0).toEqualTypeOf<unknown>();
    expectTypeOf<UnrecoverableMailError['name']>().toEqualTypeOf<'UnrecoverableError'>();
  });
});
