import { isMailError } from '../errors/guards.js';
import type { MailLike } from '../nodemailer/mail-like.js';
import { type Callback, type SendContext, createSendContext, logFields } from './context.js';
import { retryDeferredRecipients } from './deferred-recipients.js';
import { notResentReason } from './policy.js';
import type { SendRuntime } from './runtime.js';
import { afterFirstAttempt, firstAttempt } from './send-with-retries.js';

/**
 * One message, from nodemailer's `send(mail, callback)` to the callback,
 * which is called exactly once. A plain promise chain rather than async
 * functions: it runs for every message, and a send that succeeds at the
 * first try never reaches p-retry. The state lives in the context: a send
 * that works makes two closures here, not one per outcome.
 */
export function startSend(runtime: SendRuntime, mail: MailLike, callback: Callback): void {
  let context: SendContext;
  try {
    context = createSendContext(runtime, mail, callback);
  } catch (err) {
    // A bad sender: still answered asynchronously, as every other outcome is.
    queueMicrotask(() => runtime.answer(callback, err as Error));
    return;
  }
  firstAttempt(context).then(
    (info: unknown) => delivered(context, info),
    (err: unknown) =>
      afterFirstAttempt(context, err).then(
        (info: unknown) => delivered(context, info),
        (last: Error) => settle(context, failed(context, last)),
      ),
  );
}

/** The first attempt, or the retries after it, delivered: deferred recipients get their retry first. */
function delivered(context: SendContext, info: unknown): void {
  if (!context.runtime.config.retryDeferredRecipients) return done(context, info);
  retryDeferredRecipients(context, info).then(
    () => done(context, info),
    (err: Error) => settle(context, failed(context, err)),
  );
}

function done(context: SendContext, info: unknown): void {
  context.span?.end();
  settle(context, null, info);
}

/** Answers nodemailer once per send, whatever happens after. */
function settle(context: SendContext, err: Error | null, info?: unknown): void {
  if (context.settled) return;
  context.settled = true;
  context.runtime.answer(context.callback, err, info);
}

const NOT_RESENT_HINTS = {
  'stream-body': () => ' It was not retried: the message content includes a stream, which cannot be read twice (pass a string or Buffer to allow retries).',
  'retry-budget': (label: string) => ` Not retried: the retry budget for ${label} is spent (too many failures across all sends).`,
} as const;

/** Ends the span and logs a send that failed for good; the error's hint says what held a resend back. */
function failed(context: SendContext, err: Error): Error {
  context.span?.end(err);
  if (isMailError(err)) {
    err.attempts = context.attempt;
    const reason = notResentReason(err, context);
    if (reason) err.hint += NOT_RESENT_HINTS[reason](context.failedAt?.spec.label ?? '');
    context.runtime.log('error', { ...logFields(err, context), event: 'failed' }, `send failed: ${err.name}: ${err.message}`);
  }
  return err;
}
