/**
 * The send policy: the one place that decides whether a failure is sent
 * again, moves on to the next destination, or counts against a destination.
 * An error's `retryable` says whether the same message can succeed later; the
 * rules here say what this transport does about it now.
 */
import { isMailError } from '../errors/guards.js';
import type { MailError } from '../errors/mail-error.js';
import { isReplayable } from '../message/replayable.js';
import type { SendContext } from './context.js';

/** Why a failure that could succeed later was not sent again by this transport. */
export type NotResentReason = 'stream-body' | 'retry-budget';

/**
 * Only infrastructure failures count against a destination: a dropped or
 * refused connection, a timeout, 421 and other 4xx. A 5xx about one message
 * (an unknown recipient, a refused sender) says nothing about the server.
 */
export function countsAgainstDestination(err: unknown): boolean {
  if (!isMailError(err)) return true;
  if (err.name === 'ConnectionError' || err.name === 'DeliveryUnknownError') return true;
  // Any timeout, a greeting that never came included (classed TlsError, as it usually means a
  // TLS-mode mismatch, but a hung server looks the same): a breaker must stop the 30 s waits.
  if (err.code === 'ETIMEDOUT') return true;
  const code = err.responseCode ?? 0;
  return code >= 400 && code < 500;
}

/** Whether a failure at one destination moves the attempt on to the next one: an open breaker, or a failure that can pass later. */
export function failsOver(err: MailError): boolean {
  return err.name === 'CircuitOpenError' || err.retryable;
}

/**
 * The replayable-body rule: a stream can be read once, so a message whose
 * content includes one is never sent twice.
 */
function replayRefusal(err: MailError, context: SendContext): NotResentReason | undefined {
  return err.retryable && !isReplayable(context.mail.data) ? 'stream-body' : undefined;
}

/**
 * Whether this transport sends the message again (at the same or the next
 * destination) after `err`. A yes takes tokens from the failing
 * destination's retry budget; a no that the message could have passed is
 * recorded in `context.notResent`, for the hint.
 */
export function shouldResend(err: unknown, context: SendContext): boolean {
  if (!isMailError(err) || !err.retryable) return false;
  // RFC 5321: a 5yz reply is permanent. One that says "try again later" is
  // marked retryable for a queue to retry much later, never resent here.
  if ((err.responseCode ?? 0) >= 500) return false;
  context.notResent = replayRefusal(err, context);
  if (context.notResent) return false;
  const destination = context.failedAt;
  if (destination?.state.budget && !destination.state.budget.take(err.code === 'ETIMEDOUT')) {
    context.notResent = 'retry-budget';
    return false;
  }
  return true;
}

/** Why the error a send ends with was not sent again, for its hint; undefined when nothing held it back. */
export function notResentReason(err: MailError, context: SendContext): NotResentReason | undefined {
  return context.notResent ?? replayRefusal(err, context);
}
