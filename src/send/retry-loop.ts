import pRetry from 'p-retry';
import { isMailError } from '../errors/guards.js';
import { messageIdOf } from '../nodemailer/mail-like.js';
import type { RetryEvent, RetryOptions } from '../options.js';
import { abortErrorFrom } from './abort.js';
import { type SendContext, logFields } from './context.js';
import { attemptFrom } from './failover.js';
import { shouldResend } from './policy.js';

/**
 * After a failed first attempt: p-retry waits and runs the next attempts,
 * as long as the send policy says to send again.
 */
export async function retryAfterFirstAttempt(context: SendContext, retry: Required<RetryOptions>, first: unknown): Promise<unknown> {
  const { runtime } = context;
  const signal = context.mail.data.signal;
  let failedAt = 0;
  let lastError: Error | undefined;
  const run = (attempt: number): Promise<unknown> => {
    // The failed first attempt is handed to p-retry as its own first attempt.
    if (attempt === 1) return Promise.reject(first);
    if (signal?.aborted) return Promise.reject(abortErrorFrom(signal));
    context.attempt = attempt;
    context.span?.addEvent('attempt', { attempt });
    if (lastError) {
      const event: RetryEvent = {
        attempt,
        delayMs: Math.round(performance.now() - failedAt),
        error: lastError,
        messageId: messageIdOf(context.mail),
        destination: context.failedAt?.spec.label ?? '',
      };
      runtime.log(
        'warn',
        { ...logFields(lastError, context), event: 'retry', attempt, delayMs: event.delayMs },
        `retrying (attempt ${attempt}) after ${lastError.name}: ${lastError.message}`,
      );
      runtime.emit('retry', event);
      runtime.hooks.onRetry?.(event);
    }
    return attemptFrom(context);
  };
  const maxRetryTime = Math.max(0, retry.maxRetryTime - (performance.now() - context.started));
  try {
    return await pRetry(run, {
      retries: retry.retries,
      factor: retry.factor,
      minTimeout: retry.minTimeout,
      maxTimeout: retry.maxTimeout,
      randomize: retry.randomize,
      maxRetryTime,
      ...(signal ? { signal } : {}),
      onFailedAttempt: ({ error }) => {
        failedAt = performance.now();
        lastError = error;
      },
      shouldRetry: ({ error }) => {
        const resend = shouldResend(error, context);
        if (context.notResent === 'retry-budget') {
          const label = context.failedAt?.spec.label;
          runtime.log('warn', { ...logFields(error, context), event: 'retryBudgetExhausted' }, `retry budget for ${label} is spent`);
        }
        return resend;
      },
    });
  } catch (err) {
    if (signal?.aborted && !isMailError(err)) throw abortErrorFrom(signal);
    throw err;
  }
}
