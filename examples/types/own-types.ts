// Compiled by test/types/matrix.mjs (npm run test:types:matrix) against nodemailer 10, which ships its own types
// (no @types/nodemailer), as ESM, as CommonJS and with the old `node` resolution, using the packed package.
import { expectTypeOf } from 'expect-type';
import { type SMTPSentMessageInfo, type SMTPTransportOptions, type Transporter, createTransport } from 'nodemailer';
import {
  type AuthError,
  type CircuitOpenError,
  type MailError,
  isAuthError,
  isCircuitOpenError,
  isMailError,
  resilient,
} from 'nodemailer-resilient';

const transporter = createTransport(resilient({ host: 'smtp.example.com', port: 587, auth: { user: 'u', pass: 'p' } }));

expectTypeOf(transporter).toEqualTypeOf<Transporter<SMTPSentMessageInfo, SMTPTransportOptions>>();
expectTypeOf(transporter.sendMail).returns.resolves.toEqualTypeOf<SMTPSentMessageInfo>();
expectTypeOf(createTransport(resilient('smtps://u:p@smtp.example.com'))).toEqualTypeOf(transporter);

export async function send(): Promise<string> {
  try {
    const info = await transporter.sendMail({ from: 'a@example.com', to: 'b@example.net', subject: 's', text: 't' });
    return info.messageId;
  } catch (err: unknown) {
    if (isAuthError(err)) expectTypeOf(err).toEqualTypeOf<AuthError>();
    if (isCircuitOpenError(err)) expectTypeOf(err).toEqualTypeOf<CircuitOpenError>();
    if (isMailError(err)) expectTypeOf(err).toExtend<MailError>();
    throw err;
  }
}
