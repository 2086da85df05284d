import { EventEmitter } from 'node:events';
import pRetry from 'p-retry';
import {
  type BreakerSubscriber,
  type DestinationState,
  destinationState,
  refundRetryTokens,
  releaseDestination,
  retryAfterMs,
  takeRetryToken,
} from './breaker.js';
import type { NormalizedConfig, NormalizedDestination } from './config/normalize-options.js';
import { CircuitOpenError } from './errors/circuit-open-error.js';
import { isMailError } from './errors/guards.js';
import type { MailError } from './errors/mail-error.js';
import { toMailError } from './errors/to-mail-error.js';
import type { Log, Logger } from './logger.js';
import { redactingLogger } from './logger.js';
import { type BodyWatch, type MailLike, ehloNameFromSender, envelopeSender, isReplayable, watchBody } from './message.js';
import { createSmtpTransport, envelopeAddress } from './nodemailer-interop.js';
import type { BreakerEvent, BreakerState, FailoverEvent, ResilientOptions, RetryEvent, RetryOptions, TransportPlugin } from './options.js';
import type { Redactor } from './redact.js';
import { type SendSpan, startSendSpan } from './tracing.js';
import { VERSION } from './version.js';

type Callback = (err: Error | null, info?: unknown) => void;

interface RuntimeDestination {
  spec: NormalizedDestination;
  state: DestinationState;
  /** Inner transports by EHLO name ('' for a wrapped transport). */
  inners: Map<string, TransportPlugin>;
  /** One attempt through this destination; made once, so that a send hands the breaker no new closure. */
  sendVia: (context: SendContext) => Promise<unknown>;
}

interface SendContext {
  mail: MailLike;
  /** nodemailer's callback, called once: `settled` says whether it was. */
  callback: Callback;
  settled: boolean;
  ehloName: string | undefined;
  attempt: number;
  body: BodyWatch;
  /** The destination the last failure came from: its retry budget pays for the retry. */
  failedAt: RuntimeDestination | undefined;
  span: SendSpan | undefined;
  /** When attempt 1 began: p-retry's maxRetryTime counts from there. */
  started: number;
}

export interface Hooks {
  onRetry?: ResilientOptions['onRetry'];
  onBreakerStateChange?: ResilientOptions['onBreakerStateChange'];
  onFailover?: ResilientOptions['onFailover'];
}

export interface NormalizationReport {
  destination: string;
  changes: string[];
  warnings: string[];
}

/** What a destination's attempt rejects with when its breaker was open and no connection was tried. */
const SKIPPED_OPEN_BREAKER = Symbol('skipped: breaker open');

function abortErrorFrom(signal: AbortSignal): Error {
  const err = new Error('Message sending aborted', { cause: signal.reason }) as Error & { code: string };
  err.name = 'AbortError';
  err.code = 'EABORT';
  return err;
}

/**
 * The transport nodemailer calls. It chooses the inner transport (one per
 * EHLO name and destination), runs each attempt behind the destination's
 * breaker, and retries what is worth retrying.
 */
export class ResilientTransport extends EventEmitter implements BreakerSubscriber {
  readonly name = 'nodemailer-resilient';
  readonly version = VERSION;
  /** Tells nodemailer 10 that this transport honours `signal` itself. */
  readonly supportsAbortSignal = true;
  /** Set by nodemailer's Mailer when it adopts this transport. */
  mailer: unknown;
  /** What normalisation changed for each destination. */
  readonly normalization: NormalizationReport[];

  readonly #config: NormalizedConfig;
  readonly #destinations: RuntimeDestination[];
  readonly #log: Log;
  readonly #redact: Redactor;
  readonly #hooks: Hooks;
  readonly #innerLogger: Logger | boolean | undefined;
  /** The logger the app gave (or a marker for none): breaker changes are logged once per logger. */
  readonly #logSink: unknown;
  #inflight = 0;
  /** A sender is required when any destination dials SMTP. */
  readonly #dialsSmtp: boolean;
  /** Removes our listeners from inner transports on close(). */
  #detach: Array<() => void> = [];

  constructor(config: NormalizedConfig, options: { log: Log; redact: Redactor; hooks: Hooks; logger: Logger | boolean | undefined }) {
    super();
    // Own, bound copies of the plugin methods: Auth.js deep-merges its provider's `server` option
    // into a plain object, and an object spread does the same; both copy own enumerable properties only.
    this.send = this.send.bind(this);
    this.verify = this.verify.bind(this);
    this.close = this.close.bind(this);
    this.isIdle = this.isIdle.bind(this);
    this.#config = config;
    this.#log = options.log;
    this.#redact = options.redact;
    this.#hooks = options.hooks;
    this.#logSink = options.logger && typeof options.logger === 'object' ? options.logger : options.log;
    this.#innerLogger =
      options.logger && typeof options.logger === 'object' ? redactingLogger(options.logger, options.redact) : options.logger;
    this.#destinations = config.destinations.map((spec) => {
      const state = destinationState(spec.key, spec.label, config.breaker, config.retryBudget);
      state.subscribers.add(new WeakRef<BreakerSubscriber>(this));
      if (state.subscribers.size % 256 === 0) {
        for (const ref of state.subscribers) if (!ref.deref()) state.subscribers.delete(ref);
      }
      const destination: RuntimeDestination = { spec, state, inners: new Map(), sendVia: (context) => this.#sendVia(destination, context) };
      return destination;
    });
    this.#dialsSmtp = config.destinations.some((d) => d.kind === 'smtp');
    this.normalization = config.destinations
      .filter((d) => d.notes.length || d.warnings.length)
      .map((d) => ({ destination: d.label, changes: [...d.notes], warnings: [...d.warnings] }));
    for (const report of this.normalization) {
      for (const change of report.changes) this.#log('warn', { destination: report.destination, event: 'normalize' }, change);
      for (const warning of report.warnings) this.#log('warn', { destination: report.destination, event: 'normalize' }, warning);
    }
    // Listeners attached right after construction still hear it.
    if (this.normalization.length) queueMicrotask(() => this.emit('normalize', this.normalization));
  }

  /**
   * nodemailer's plugin entry point. The callback is called exactly once.
   * This and the methods it calls build a plain promise chain rather than
   * async functions: it runs for every message, and a send that succeeds at
   * the first try never reaches p-retry.
   */
  send(mail: MailLike, callback: Callback): void {
    this.#inflight++;
    let context: SendContext;
    try {
      context = this.#contextFor(mail, callback);
    } catch (err) {
      // A bad sender: still answered asynchronously, as every other outcome is.
      queueMicrotask(() => this.#answer(callback, err as Error));
      return;
    }
    // #sendWithRetries, with its two steps joined here: one promise fewer per message.
    // The state lives in the context and the steps are methods: a send that works
    // makes two closures here, not one per outcome.
    this.#firstAttempt(context).then(
      (info: unknown) => this.#delivered(context, info),
      (err: unknown) =>
        this.#afterFirstAttempt(context, err).then(
          (info: unknown) => this.#delivered(context, info),
          (last: Error) => this.#settle(context, this.#failed(context, last)),
        ),
    );
  }

  /** What a send needs on every attempt; throws ConfigError for a sender that does not parse. */
  #contextFor(mail: MailLike, callback: Callback): SendContext {
    const primary = this.#destinations[0]!;
    const from = envelopeSender(mail, this.#dialsSmtp);
    const explicitName = primary.spec.smtp?.name as string | undefined;
    const ehloName = explicitName ?? (this.#config.ehloFromSender ? ehloNameFromSender(from) : undefined);
    const span = startSendSpan(primary.spec.smtp?.host, () => ({
      'messaging.message.id': this.#messageIdOf(mail),
      'server.address': primary.spec.smtp?.host,
      'server.port': primary.spec.port,
    }));
    return { mail, callback, settled: false, ehloName, attempt: 0, body: watchBody(mail), failedAt: undefined, span, started: 0 };
  }

  /** The first attempt, or the retries after it, delivered: deferred recipients get their retry first. */
  #delivered(context: SendContext, info: unknown): void {
    if (!this.#config.retryDeferredRecipients) return this.#done(context, info);
    this.#retryDeferred(context, info).then(
      () => this.#done(context, info),
      (err: Error) => this.#settle(context, this.#failed(context, err)),
    );
  }

  #done(context: SendContext, info: unknown): void {
    context.span?.end();
    this.#settle(context, null, info);
  }

  /** Answers nodemailer once per send, whatever happens after. */
  #settle(context: SendContext, err: Error | null, info?: unknown): void {
    if (context.settled) return;
    context.settled = true;
    this.#answer(context.callback, err, info);
  }

  #answer(callback: Callback, err: Error | null, info?: unknown): void {
    this.#inflight--;
    callback(err, info);
    this.#emitIdleIfIdle();
  }

  /** Ends the span and logs a send that failed for good; returns the error for the caller. */
  #failed(context: SendContext, err: Error): Error {
    context.span?.end(err);
    if (isMailError(err)) {
      err.attempts = context.attempt;
      if (err.retryable && !isReplayable(context.mail.data)) {
        err.hint += ' It was not retried: the message content includes a stream, which cannot be read twice (pass a string or Buffer to allow retries).';
      }
      this.#log('error', { ...this.#fields(err, context), event: 'failed' }, `send failed: ${err.name}: ${err.message}`);
    }
    return err;
  }

  /** A whole send: the first attempt, then failover and p-retry's attempts. */
  #sendWithRetries(context: SendContext): Promise<unknown> {
    return this.#firstAttempt(context).catch((err: unknown) => this.#afterFirstAttempt(context, err));
  }

  /** Attempt 1 at the first destination: all there is to a send that works. */
  #firstAttempt(context: SendContext): Promise<unknown> {
    const signal = context.mail.data.signal;
    if (signal?.aborted) return Promise.reject(abortErrorFrom(signal));
    context.attempt = 1;
    context.started = performance.now();
    context.span?.addEvent('attempt', { attempt: 1 });
    return this.#tryDestination(context, 0);
  }

  /** After the first destination failed attempt 1: failover, then p-retry. */
  #afterFirstAttempt(context: SendContext, err: unknown): Promise<unknown> {
    const attempt = this.#afterDestinationFailed(context, 0, err);
    const retry = this.#config.retry;
    if (!retry || retry.retries === 0) return attempt;
    return attempt.catch((last: unknown) => this.#retry(context, retry, last));
  }

  /** After a failed first attempt: p-retry decides, waits and retries from there. */
  async #retry(context: SendContext, retry: Required<RetryOptions>, first: unknown): Promise<unknown> {
    // A stream can be read once: such a message cannot be sent again.
    const retries = isReplayable(context.mail.data) ? retry.retries : 0;
    if (retries === 0) throw first;
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
          messageId: this.#messageIdOf(context.mail),
          destination: context.failedAt?.spec.label ?? '',
        };
        this.#log('warn', { ...this.#fields(lastError, context), event: 'retry', attempt, delayMs: event.delayMs }, `retrying (attempt ${attempt}) after ${lastError.name}: ${lastError.message}`);
        this.emit('retry', event);
        this.#hooks.onRetry?.(event);
      }
      return this.#attempt(context);
    };
    const maxRetryTime = Math.max(0, retry.maxRetryTime - (performance.now() - context.started));
    try {
      return await pRetry(run, {
        retries,
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
          if (!isMailError(error) || !error.retryable) return false;
          // RFC 5321: a 5yz reply is permanent. One that says "try again later" is
          // marked retryable for a queue to retry much later, never resent here.
          if ((error.responseCode ?? 0) >= 500) return false;
          const state = context.failedAt?.state;
          if (state && !takeRetryToken(state, error.code === 'ETIMEDOUT')) {
            error.hint += ` Not retried: the retry budget for ${state.label} is spent (too many failures across all sends).`;
            this.#log('warn', { ...this.#fields(error, context), event: 'retryBudgetExhausted' }, `retry budget for ${state.label} is spent`);
            return false;
          }
          return true;
        },
      });
    } catch (err) {
      if (signal?.aborted && !isMailError(err)) throw abortErrorFrom(signal);
      throw err;
    }
  }

  /** One attempt from destination `index` on: skips open breakers, fails over on transient failures. */
  #attempt(context: SendContext, index = 0): Promise<unknown> {
    return this.#tryDestination(context, index).catch((err: unknown) => this.#afterDestinationFailed(context, index, err));
  }

  /** One send through one destination, behind its breaker. An open breaker rejects with SKIPPED_OPEN_BREAKER. */
  #tryDestination(context: SendContext, index: number): Promise<unknown> {
    const destination = this.#destinations[index]!;
    const breaker = destination.state.breaker;
    if (!breaker) return this.#sendVia(destination, context);
    if (breaker.opened) return Promise.reject(SKIPPED_OPEN_BREAKER);
    return breaker.fire(destination.sendVia, context);
  }

  /** The next destination when the failure allows it, else the error for this attempt. */
  #afterDestinationFailed(context: SendContext, index: number, err: unknown): Promise<unknown> {
    const destination = this.#destinations[index]!;
    if (err === SKIPPED_OPEN_BREAKER) return this.#failOver(context, index, this.#circuitOpen(destination, context));
    const code = (err as { code?: unknown } | undefined)?.code;
    if (!isMailError(err) && code !== 'EOPENBREAKER') return Promise.reject(err);
    const error: MailError = code === 'EOPENBREAKER' ? this.#circuitOpen(destination, context) : (err as MailError);
    context.failedAt = destination;
    if (error.name !== 'CircuitOpenError' && !error.retryable) return Promise.reject(error);
    return this.#failOver(context, index, error);
  }

  /** Tries the next destination, or gives the caller the last error when there is none. */
  #failOver(context: SendContext, index: number, error: MailError): Promise<unknown> {
    const next = this.#destinations[index + 1];
    if (!next) return Promise.reject(error);
    const event: FailoverEvent = { from: this.#destinations[index]!.spec.label, to: next.spec.label, error, messageId: this.#messageIdOf(context.mail) };
    this.#log('warn', { ...this.#fields(error, context), event: 'failover', to: next.spec.label }, `failing over from ${event.from} to ${event.to}`);
    this.emit('failover', event);
    context.span?.addEvent('failover', { from: event.from, to: event.to, 'error.type': error.name });
    this.#hooks.onFailover?.(event);
    return this.#attempt(context, index + 1);
  }

  #circuitOpen(destination: RuntimeDestination, context: SendContext): CircuitOpenError {
    const wait = retryAfterMs(destination.state);
    return new CircuitOpenError(`The circuit breaker for ${destination.spec.label} is open: no connection was made`, {
      code: 'EBREAKER',
      retryable: false,
      hint: `Recent sends to ${destination.spec.label} kept failing; the next probe is due in ${Math.ceil(wait / 1000)} s. Check the server, or add a failover destination.`,
      destination: destination.spec.label,
      attempts: context.attempt,
      retryAfterMs: wait,
    });
  }

  /** One send through one destination. A plain promise chain: this runs for every message. */
  #sendVia(destination: RuntimeDestination, context: SendContext): Promise<unknown> {
    const inner = this.#inner(destination, context.ehloName);
    const attempt = context.body.beginAttempt();
    return new Promise((resolve, reject) => {
      inner.send(context.mail, (raw, info) => {
        if (!raw) {
          refundRetryTokens(destination.state);
          return resolve(info);
        }
        const code = (raw as { code?: unknown }).code;
        if (code === 'EABORT' || raw.name === 'AbortError') return reject(raw);
        const smtp = destination.spec.smtp;
        const err = toMailError(raw, {
          bodySent: attempt.bodySent,
          secure: smtp ? smtp.secure === true : undefined,
          port: destination.spec.port,
          destination: destination.spec.label,
          attempts: context.attempt,
          redact: this.#redact,
        });
        if (err.name === 'DeliveryUnknownError' && this.#config.resendOnUnknownDelivery) err.retryable = true;
        reject(err);
      });
    });
  }

  /** The inner transport for a destination and EHLO name, made on first use. */
  #inner(destination: RuntimeDestination, ehloName: string | undefined): TransportPlugin {
    const key = destination.spec.kind === 'smtp' ? (ehloName ?? '') : '';
    let inner = destination.inners.get(key);
    if (inner) return inner;
    if (destination.spec.kind === 'plugin') {
      inner = destination.spec.plugin!;
    } else {
      const options = { ...destination.spec.smtp! };
      if (ehloName) options.name = ehloName;
      if (this.#innerLogger !== undefined) options.logger = this.#innerLogger;
      inner = createSmtpTransport(options);
    }
    if (typeof inner.on === 'function') {
      const onIdle = () => this.#emitIdleIfIdle();
      const onError = (err: unknown) => {
        if (this.listenerCount('error') > 0) this.emit('error', toMailError(err, { redact: this.#redact, destination: destination.spec.label }));
      };
      inner.on('idle', onIdle);
      inner.on('error', onError);
      this.#detach.push(() => {
        inner!.removeListener?.('idle', onIdle);
        inner!.removeListener?.('error', onError);
      });
    }
    (inner as { mailer?: unknown }).mailer ??= this.mailer;
    destination.inners.set(key, inner);
    return inner;
  }

  /** Checks the primary destination: connects, logs in, and quits. A down server rejects. */
  verify(callback?: (err: Error | null, success?: boolean) => void): Promise<boolean> | undefined {
    const promise = this.#verify();
    if (!callback) return promise;
    promise.then(
      (ok) => callback(null, ok),
      (err: Error) => callback(err),
    );
    return undefined;
  }

  async #verify(): Promise<boolean> {
    const destination = this.#destinations[0]!;
    let name = destination.spec.smtp?.name as string | undefined;
    if (!name && this.#config.ehloFromSender) {
      const defaults = (this.mailer as { _defaults?: { from?: unknown } } | undefined)?._defaults;
      const from = typeof defaults?.from === 'string' ? defaults.from : (defaults?.from as { address?: string } | undefined)?.address;
      name = ehloNameFromSender(from ? envelopeAddress(from) : undefined);
    }
    const inner = this.#inner(destination, name);
    if (typeof inner.verify !== 'function') return true;
    try {
      await new Promise((resolve, reject) => {
        const maybe = inner.verify!((err, ok) => (err ? reject(err) : resolve(ok)));
        if (maybe && typeof (maybe as Promise<unknown>).then === 'function') (maybe as Promise<unknown>).then(resolve, reject);
      });
      return true;
    } catch (raw) {
      const smtp = destination.spec.smtp;
      throw toMailError(raw, {
        secure: smtp?.secure === true,
        port: destination.spec.port,
        destination: destination.spec.label,
        redact: this.#redact,
      });
    }
  }

  isIdle(): boolean {
    if (this.#inflight > 0) return false;
    for (const destination of this.#destinations) {
      for (const inner of destination.inners.values()) {
        if (typeof inner.isIdle === 'function' && !inner.isIdle()) return false;
      }
    }
    return true;
  }

  /** Closes every inner transport and lets go of the shared destination state. */
  close(): void {
    for (const destination of this.#destinations) {
      for (const inner of destination.inners.values()) inner.close?.();
      destination.inners.clear();
      releaseDestination(destination.state, this);
    }
    for (const detach of this.#detach.splice(0)) detach();
  }

  /** Called by the shared breaker registry. */
  onBreakerState(state: BreakerState, destination: string, reported: Set<unknown>): void {
    const event: BreakerEvent = { state, destination };
    if (!reported.has(this.#logSink)) {
      reported.add(this.#logSink);
      this.#log(state === 'open' ? 'warn' : 'info', { destination, event: 'breaker', state }, `circuit breaker for ${destination} is ${state === 'close' ? 'closed' : state}`);
    }
    const hook = this.#hooks.onBreakerStateChange;
    if (hook && !reported.has(hook)) {
      reported.add(hook);
      hook(event);
    }
    this.emit('breaker', event);
  }

  #emitIdleIfIdle(): void {
    if (this.isIdle()) this.emit('idle');
  }

  #messageIdOf(mail: MailLike): string | undefined {
    try {
      return mail.message.messageId();
    } catch {
      return undefined;
    }
  }

  #fields(err: Error, context: SendContext): Record<string, unknown> {
    const e = err as Partial<MailError>;
    return {
      destination: e.destination ?? context.failedAt?.spec.label,
      messageId: this.#messageIdOf(context.mail),
      attempt: context.attempt,
      errorClass: err.name,
      retryable: e.retryable,
      code: e.code,
      responseCode: e.responseCode,
    };
  }

  /** Opt-in: recipients refused with a 4xx are retried alone, once the accepted ones are delivered. */
  async #retryDeferred(context: SendContext, info: unknown): Promise<void> {
    const result = info as { rejected?: string[]; rejectedErrors?: Array<{ recipient?: string; responseCode?: number }>; envelope?: { from?: string } };
    const deferred = (result.rejectedErrors ?? [])
      .filter((e) => (e.responseCode ?? 0) >= 400 && (e.responseCode ?? 0) < 500 && e.recipient)
      .map((e) => e.recipient!);
    if (!deferred.length || typeof context.mail.message.setEnvelope !== 'function') return;
    const original = context.mail.message.getEnvelope();
    const outcome: { recipients: string[]; delivered: string[]; failed: Array<{ recipient: string; error: Error }> } = {
      recipients: deferred,
      delivered: [],
      failed: [],
    };
    context.mail.message.setEnvelope({ from: original.from, to: deferred });
    try {
      const second = (await this.#sendWithRetries({ ...context, attempt: 0, failedAt: undefined })) as { accepted?: string[]; rejectedErrors?: Array<Error & { recipient?: string }> };
      outcome.delivered = second.accepted ?? [];
      for (const e of second.rejectedErrors ?? []) outcome.failed.push({ recipient: e.recipient ?? '', error: e });
    } catch (err) {
      for (const recipient of deferred) outcome.failed.push({ recipient, error: err as Error });
    } finally {
      context.mail.message.setEnvelope(original);
    }
    (info as Record<string, unknown>)['deferred'] = outcome;
  }
}

// A `for...in` deep merge (Auth.js merges its provider's `server` into one shared plain object on
// every request) would also copy EventEmitter's enumerable prototype methods, `on` included, and each
// createTransport() of the copy would add four listeners to it for good. Non-enumerable shadows keep
// them out of such copies; the copy still sends through the bound methods above.
for (const key of Object.keys(EventEmitter.prototype)) {
  if (!Object.prototype.hasOwnProperty.call(ResilientTransport.prototype, key)) {
    Object.defineProperty(ResilientTransport.prototype, key, {
      value: (EventEmitter.prototype as unknown as Record<string, unknown>)[key],
      enumerable: false,
      writable: true,
      configurable: true,
    });
  }
}
