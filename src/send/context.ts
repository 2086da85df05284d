import type { MailError } from '../errors/mail-error.js';
import { type BodyWatch, watchBody } from '../message/body-watch.js';
import { ehloNameFromSender } from '../message/ehlo-name.js';
import { envelopeSender } from '../message/sender.js';
import { type MailLike, messageIdOf } from '../nodemailer/mail-like.js';
import { type SendSpan, startSendSpan } from '../tracing.js';
import type { NotResentReason } from './policy.js';
import type { RuntimeDestination, SendRuntime } from './runtime.js';

export type Callback = (err: Error | null, info?: unknown) => void;

/** Everything one send carries from attempt to attempt: one object per message, no closures. */
export interface SendContext {
  readonly runtime: SendRuntime;
  readonly mail: MailLike;
  /** nodemailer's callback, called once: `settled` says whether it was. */
  readonly callback: Callback;
  settled: boolean;
  readonly ehloName: string | undefined;
  attempt: number;
  readonly body: BodyWatch;
  /** The destination the last failure came from: its retry budget pays for the retry. */
  failedAt: RuntimeDestination | undefined;
  /** Why the last failure was not sent again, when the policy could have resent it otherwise. */
  notResent: NotResentReason | undefined;
  readonly span: SendSpan | undefined;
  /** When attempt 1 began: p-retry's maxRetryTime counts from there. */
  started: number;
}

/** What a send needs on every attempt; throws ConfigError for a sender that does not parse. */
export function createSendContext(runtime: SendRuntime, mail: MailLike, callback: Callback): SendContext {
  const primary = runtime.destinations[0]!;
  const from = envelopeSender(mail, runtime.dialsSmtp);
  const explicitName = primary.spec.smtp?.name as string | undefined;
  const ehloName = explicitName ?? (runtime.config.ehloFromSender ? ehloNameFromSender(from) : undefined);
  const span = startSendSpan(primary.spec.smtp?.host, () => ({
    'messaging.message.id': messageIdOf(mail),
    'server.address': primary.spec.smtp?.host,
    'server.port': primary.spec.port,
  }));
  return {
    runtime,
    mail,
    callback,
    settled: false,
    ehloName,
    attempt: 0,
    body: watchBody(mail),
    failedAt: undefined,
    notResent: undefined,
    span,
    started: 0,
  };
}

/** The structured fields of a log record about a failure of this send. */
export function logFields(err: Error, context: SendContext): Record<string, unknown> {
  const e = err as Partial<MailError>;
  return {
    destination: e.destination ?? context.failedAt?.spec.label,
    messageId: messageIdOf(context.mail),
    attempt: context.attempt,
    errorClass: err.name,
    retryable: e.retryable,
    code: e.code,
    responseCode: e.responseCode,
  };
}
