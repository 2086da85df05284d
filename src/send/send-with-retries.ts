import { abortErrorFrom } from './abort.js';
import { tryDestination } from './attempt.js';
import type { SendContext } from './context.js';
import { afterDestinationFailed } from './failover.js';
import { retryAfterFirstAttempt } from './retry-loop.js';

/** Attempt 1 at the first destination: all there is to a send that works. */
export function firstAttempt(context: SendContext): Promise<unknown> {
  const signal = context.mail.data.signal;
  if (signal?.aborted) return Promise.reject(abortErrorFrom(signal));
  context.attempt = 1;
  context.started = performance.now();
  context.span?.addEvent('attempt', { attempt: 1 });
  return tryDestination(context, 0);
}

/** After the first destination failed attempt 1: failover, then p-retry. */
export function afterFirstAttempt(context: SendContext, err: unknown): Promise<unknown> {
  const attempt = afterDestinationFailed(context, 0, err);
  const retry = context.runtime.config.retry;
  if (!retry || retry.retries === 0) return attempt;
  return attempt.catch((last: unknown) => retryAfterFirstAttempt(context, retry, last));
}

/** A whole send: the first attempt, then failover and p-retry's attempts. */
export function sendWithRetries(context: SendContext): Promise<unknown> {
  return firstAttempt(context).catch((err: unknown) => afterFirstAttempt(context, err));
}
