/**
 * BullMQ integration: `nodemailer-resilient/bullmq`.
 *
 * Nothing here imports bullmq. BullMQ stops retrying any error whose `name`
 * is `'UnrecoverableError'` (it checks the name as well as the class), and
 * it calls `settings.backoffStrategy` with the error that failed the job, so
 * both sides of the contract are plain objects.
 */
import { isMailError } from '../errors/guards.js';
import type { MailError } from '../errors/mail-error.js';

/** The name BullMQ looks for before it retries a job (`job.shouldRetryJob`). */
export const UNRECOVERABLE_ERROR_NAME = 'UnrecoverableError' as const;

/**
 * A permanent MailError, named so that BullMQ fails the job at once instead
 * of spending its remaining attempts. The MailError is its `cause`, and its
 * `code`, `responseCode` and `hint` are copied so `worker.on('failed')`
 * handlers can act without unwrapping.
 */
export class UnrecoverableMailError extends Error {
  override readonly name = UNRECOVERABLE_ERROR_NAME;
  /** The MailError's class, e.g. `'RecipientsRejectedError'`. */
  readonly errorClass: string;
  readonly code: string;
  readonly responseCode: number | undefined;
  readonly retryable = false;
  readonly hint: string;

  constructor(error: MailError) {
    // BullMQ keeps `message` as the job's failedReason: start it with the class.
    super(`${error.name}: ${error.message}`, { cause: error });
    this.errorClass = error.name;
    this.code = error.code;
    this.responseCode = error.responseCode;
    this.hint = error.hint;
  }
}

/**
 * What a queue should see for an error from `sendMail()`:
 * - a MailError that cannot succeed by sending again (`retryable: false`) is
 *   wrapped in an {@link UnrecoverableMailError}, so the job fails after this attempt;
 * - a CircuitOpenError is returned as it is, to be retried once the breaker
 *   lets a probe through (it is not retryable within one send, but it is later);
 * - anything else (a retryable MailError, an error that is not ours) is
 *   returned as it is, for the queue's own retries.
 */
export function toQueueError(error: unknown): unknown {
  if (isMailError(error) && !error.retryable && error.name !== 'CircuitOpenError') return new UnrecoverableMailError(error);
  return error;
}

/**
 * Throws {@link toQueueError}'s verdict: `await transporter.sendMail(mail).catch(throwForQueue)`.
 */
export function throwForQueue(error: unknown): never {
  throw toQueueError(error);
}

export interface BackoffOptions {
  /** Delay before the first queue retry, in milliseconds; it doubles on each retry. Defaults to 30 s. */
  delay?: number | undefined;
  /**
   * Delay before the first retry after the server said to slow down (a 421, or
   * a 4xx reply about rates or too many messages), in milliseconds; it doubles
   * on each retry. Defaults to 5 minutes.
   */
  throttledDelay?: number | undefined;
  /** Largest delay, in milliseconds. Defaults to 1 hour. */
  maxDelay?: number | undefined;
  /** Each delay is shortened by a random fraction of itself up to this (0 to 1), so workers do not retry in step. Defaults to 0.2. */
  jitter?: number | undefined;
}

/** BullMQ's `BackoffStrategy` signature; `-1` tells BullMQ not to retry. */
export type BackoffStrategy = (attemptsMade: number, type?: string, error?: Error, job?: unknown) => number;

const BACKOFF_DEFAULTS: { readonly [K in keyof BackoffOptions]-?: number } = {
  delay: 30_000,
  throttledDelay: 5 * 60_000,
  maxDelay: 60 * 60_000,
  jitter: 0.2,
};

/** Replies that ask the client to slow down, rather than to come back after a moment. */
const THROTTLED = /rate.?limit|throttl|too many|slow down|exceeded|try again in \d/i;

/** True when the server deferred the send because this client sends too much or too fast. */
export function isThrottled(error: MailError): boolean {
  const code = error.responseCode ?? 0;
  if (code === 421) return true;
  return code >= 400 && code < 500 && THROTTLED.test(`${error.response ?? ''} ${error.message}`);
}

function expectDelay(name: string, value: unknown, max = Number.POSITIVE_INFINITY): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    const range = max === Number.POSITIVE_INFINITY ? 'a non-negative number' : `a number from 0 to ${max}`;
    throw new RangeError(`Expected \`${name}\` to be ${range}, got ${String(value)}`);
  }
}

/**
 * A backoff strategy that reads the error, for BullMQ's
 * `new Worker(name, processor, { settings: { backoffStrategy } })` with jobs
 * added with `backoff: { type: 'custom' }`:
 * - a permanent MailError: `-1`, no retry (in case the processor threw it unwrapped);
 * - a CircuitOpenError: when the breaker lets a probe through (`retryAfterMs`), at the least;
 * - throttling (421, "too many messages", "rate limit"): `throttledDelay`, doubling;
 * - anything else: `delay`, doubling.
 *
 * BullMQ calls a custom strategy only when the job's backoff type is not one
 * of its own: with `backoff: { type: 'exponential' }` it is never called.
 */
export function createBackoffStrategy(options: BackoffOptions = {}): BackoffStrategy {
  expectDelay('delay', options.delay);
  expectDelay('throttledDelay', options.throttledDelay);
  expectDelay('maxDelay', options.maxDelay);
  expectDelay('jitter', options.jitter, 1);
  // `?? default`, not a spread: `{ delay: undefined }` (an unset environment variable) means the default.
  const delay = options.delay ?? BACKOFF_DEFAULTS.delay;
  const throttledDelay = options.throttledDelay ?? BACKOFF_DEFAULTS.throttledDelay;
  const maxDelay = options.maxDelay ?? BACKOFF_DEFAULTS.maxDelay;
  const jitter = options.jitter ?? BACKOFF_DEFAULTS.jitter;
  const grow = (base: number, attemptsMade: number) => {
    const full = Math.min(maxDelay, base * 2 ** Math.max(0, attemptsMade - 1));
    return Math.round(full * (1 - jitter * Math.random()));
  };
  return (attemptsMade, _type, error) => {
    if (!isMailError(error)) return grow(delay, attemptsMade);
    if (error.name === 'CircuitOpenError') return Math.min(maxDelay, Math.max(error.retryAfterMs, grow(delay, attemptsMade)));
    if (!error.retryable) return -1;
    return grow(isThrottled(error) ? throttledDelay : delay, attemptsMade);
  };
}

/** {@link createBackoffStrategy} with its defaults. */
export const backoffStrategy: BackoffStrategy = createBackoffStrategy();
