// Compiled by test/types/matrix.mjs (npm run test:types:matrix) against nodemailer 6.x to 9.x with @types/nodemailer
// (6.4, 7.0, 8.0), as ESM, as CommonJS and with the old `node` resolution, using the packed package.
import { expectTypeOf } from 'expect-type';
import { createTransport, type Transporter } from 'nodemailer';
// With the extension: nodemailer before 10 has no `exports` map, so ESM needs the full path.
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import {
  type AuthError,
  type CircuitOpenError,
  type MailError,
  type RecipientsRejectedError,
  isAuthError,
  isCircuitOpenError,
  isMailError,
  isRecipientsRejectedError,
  resilient,
} from 'nodemailer-resilient';

const transporter = createTransport(resilient({ host: 'smtp.example.com', port: 587, auth: { user: 'u', pass: 'p' } }));

// createTransport(resilient(o)) is an SMTP transporter: sendMail() resolves with SMTP send info.
expectTypeOf(transporter).toExtend<Transporter<SMTPTransport.SentMessageInfo>>();
expectTypeOf(transporter.sendMail).returns.resolves.toEqualTypeOf<SMTPTransport.SentMessageInfo>();
expectTypeOf<SMTPTransport.SentMessageInfo['messageId']>().toEqualTypeOf<string>();
expectTypeOf(createTransport(resilient('smtps://u:p@smtp.example.com'))).toEqualTypeOf(transporter);

export async function send(): Promise<string> {
  try {
    const info = await transporter.sendMail({ from: 'a@example.com', to: 'b@example.net', subject: 's', text: 't' });
    return info.messageId;
  } catch (err: unknown) {
    // The guards narrow.
    if (isAuthError(err)) expectTypeOf(err).toEqualTypeOf<AuthError>();
    if (isRecipientsRejectedError(err)) expectTypeOf(err).toEqualTypeOf<RecipientsRejectedError>();
    if (isCircuitOpenError(err)) {
      expectTypeOf(err).toEqualTypeOf<CircuitOpenError>();
      expectTypeOf(err.retryAfterMs).toEqualTypeOf<number>();
    }
    if (isMailError(err)) {
      expectTypeOf(err).toExtend<MailError>();
      expectTypeOf(err.retryable).toEqualTypeOf<boolean>();
      expectTypeOf(err.responseCode).toEqualTypeOf<number | undefined>();
    }
    throw err;
  }
}
