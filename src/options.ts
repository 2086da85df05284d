import type { Logger } from './logger.js';

/** A nodemailer transport plugin: anything with `send(mail, callback)`. */
export interface TransportPlugin {
  name?: string;
  version?: string;
  send(mail: unknown, callback: (err: Error | null, info?: unknown) => void): void;
  verify?(callback?: (err: Error | null, success?: boolean) => void): unknown;
  close?(): void;
  isIdle?(): boolean;
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener?(event: string, listener: (...args: unknown[]) => void): unknown;
  removeAllListeners?(event?: string): unknown;
}

/** SMTP options, as nodemailer's SMTP transport and pool take them. Unknown keys are passed through. */
export interface SmtpOptions {
  host?: string;
  /** A number or a numeric string. `NaN`, `''` and `undefined` fall back to nodemailer's default. */
  port?: number | string;
  secure?: boolean | 'true' | 'false';
  requireTLS?: boolean;
  ignoreTLS?: boolean;
  /** EHLO/HELO name. Derived from the sender's domain when left out (see `normalize.ehloFromSender`). */
  name?: string;
  auth?: { user?: string | undefined; pass?: string | undefined; type?: string; [key: string]: unknown } | undefined;
  service?: string;
  url?: string;
  pool?: boolean;
  tls?: Record<string, unknown>;
  logger?: Logger | boolean;
  debug?: boolean;
  [key: string]: unknown;
}

/** Turns the normalisation rules off one by one (`normalize: false` turns them all off). */
export interface NormalizeOptions {
  /** 465 means implicit TLS; 25, 587 and 2525 mean STARTTLS. @default true */
  tlsFromPort?: boolean;
  /** `auth` with an empty user and an empty pass is dropped. @default true */
  dropEmptyAuth?: boolean;
  /** The EHLO name comes from the sender's domain when `name` is not set. @default true */
  ehloFromSender?: boolean;
}

export interface RetryOptions {
  /** Retries after the first attempt. @default 2 (3 attempts in all) */
  retries?: number;
  /** Exponential factor. @default 2 */
  factor?: number;
  /** Delay before the first retry, in milliseconds. @default 1000 */
  minTimeout?: number;
  /** Largest delay between two attempts, in milliseconds. @default 10000 */
  maxTimeout?: number;
  /** Multiply each delay by a random factor between 1 and 2 (p-retry's jitter). @default true */
  randomize?: boolean;
  /** No retry starts once this much time, in milliseconds, has passed since the first attempt. @default 30000 */
  maxRetryTime?: number;
}

export interface BreakerOptions {
  /** Time in milliseconds the breaker stays open before it lets one probe through. @default 30000 */
  resetTimeout?: number;
  /** Failure percentage (of calls in the rolling window) that opens the breaker. @default 50 */
  errorThresholdPercentage?: number;
  /** Calls needed in the rolling window before the breaker may open. @default 5 */
  volumeThreshold?: number;
  /** Length of the rolling window, in milliseconds; keep it longer than your longest timeout. @default 60000 */
  rollingCountTimeout?: number;
  /** Buckets in the rolling window. @default 10 */
  rollingCountBuckets?: number;
}

export interface RetryBudgetOptions {
  /** Tokens a destination starts with and can hold. @default 100 */
  capacity?: number;
  /** Tokens one retry takes. @default 2 */
  retryCost?: number;
  /** Tokens one retry after a timeout takes. @default 5 */
  timeoutCost?: number;
  /** Tokens a successful first-attempt send gives back. @default 1 */
  successRefund?: number;
}

/** A failover destination: SMTP options, an smtp(s):// URL, or a transport plugin. */
export type Destination = SmtpOptions | string | TransportPlugin;

export interface RetryEvent {
  /** The attempt that is about to start (2 for the first retry). */
  attempt: number;
  /** How long it waited before this attempt, in milliseconds. */
  delayMs: number;
  /** The failure that caused the retry. */
  error: Error;
  messageId: string | undefined;
  destination: string;
}

export type BreakerState = 'open' | 'halfOpen' | 'close';

export interface BreakerEvent {
  state: BreakerState;
  destination: string;
}

export interface FailoverEvent {
  from: string;
  to: string;
  error: Error;
  messageId: string | undefined;
}

export interface ResilientOptions extends SmtpOptions {
  /**
   * Wrap this transport instead of dialling SMTP: a transport plugin (an
   * object with `send`) or nodemailer options for sendmail, SES, stream or
   * JSON transports.
   */
  transport?: TransportPlugin | SmtpOptions;
  /** `false` turns retries off; a number sets `retries`. */
  retry?: number | false | RetryOptions;
  /** `false` turns the circuit breaker off. */
  breaker?: false | BreakerOptions;
  /** Retries a destination may use, shared by every send to it; `false` turns the budget off. */
  retryBudget?: false | RetryBudgetOptions;
  /** More destinations, tried in order when the current one is open or failed transiently. */
  failover?: Destination[];
  /** `false` turns every normalisation rule off. */
  normalize?: false | NormalizeOptions;
  /**
   * Resend when the whole message was written but no reply came. This can
   * deliver the message twice. @default false
   */
  resendOnUnknownDelivery?: boolean;
  /** Recipients refused with a 4xx are retried alone, as their own delivery. @default false */
  retryDeferredRecipients?: boolean;
  onRetry?: (event: RetryEvent) => void;
  onBreakerStateChange?: (event: BreakerEvent) => void;
  onFailover?: (event: FailoverEvent) => void;
}
