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
import { type MailLike, ehloNameFromSender, envelopeSender, isReplayable, watchBody } from './message.js';
import { createSmtpTransport } from './nodemailer-interop.js';
import type { BreakerEvent, BreakerState, FailoverEvent, ResilientOptions, RetryEvent, TransportPlugin } from './options.js';
import type { Redactor } from './redact.js';
import { type SendSpan, startSendSpan } from './tracing.js';
import { VERSION } from './version.js';

type Callback = (err: Error | null, info?: unknown) => void;

interface RuntimeDestination {
  spec: NormalizedDestination;
  state: DestinationState;
  /** Inner transports by EHLO name ('' for a wrapped transport). */
  inners: Map<string, TransportPlugin>;
}

interface SendContext {
  mail: MailLike;
  ehloName: string | undefined;
  attempt: number;
  body: ReturnType<typeof watchBody>;
  /** The destination the last failure came from: its retry budget pays for the retry. */
  failedAt: RuntimeDestination | undefined;
  span: SendSpan | undefined;
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

const EMPTY_MESSAGE_ID = undefined;

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
      return { spec, state, inners: new Map() };
    });
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

  /** nodemailer's plugin entry point. The callback is called exactly once. */
  send(mail: MailLike, callback: Callback): void {
    let called = false;
    const done: Callback = (err, info) => {
      if (called) return;
      called = true;
      callback(err, info);
    };
    this.#inflight++;
    this.#send(mail).then(
      (info) => {
        this.#inflight--;
        done(null, info);
        this.#emitIdleIfIdle();
      },
      (err: Error) => {
        this.#inflight--;
        done(err);
        this.#emitIdleIfIdle();
      },
    );
  }

  async #send(mail: MailLike): Promise<unknown> {
    const primary = this.#destinations[0]!;
    const dialsSmtp = this.#destinations.some((d) => d.spec.kind === 'smtp');
    const from = envelopeSender(mail, dialsSmtp);
    const explicitName = primary.spec.smtp?.name as string | undefined;
    const ehloName = explicitName ?? (this.#config.ehloFromSender ? ehloNameFromSender(from) : undefined);
    const body = watchBody(mail);
    const span = startSendSpan(primary.spec.smtp?.host, () => ({
      'messaging.message.id': this.#messageIdOf(mail),
      'server.address': primary.spec.smtp?.host,
      'server.port': primary.spec.port,
    }));
    const context: SendContext = { mail, ehloName, attempt: 0, body, failedAt: undefined, span };
    try {
      const info = await this.#sendWithRetries(context);
      if (this.#config.retryDeferredRecipients) await this.#retryDeferred(context, info);
      span?.end();
      return info;
    } catch (err) {
      span?.end(err as Error);
      if (isMailError(err)) {
        err.attempts = context.attempt;
        if (err.retryable && !isReplayable(mail.data)) {
          err.hint += ' It was not retried: the message content includes a stream, which cannot be read twice (pass a string or Buffer to allow retries).';
        }
        this.#log('error', { ...this.#fields(err, context), event: 'failed' }, `send failed: ${err.name}: ${err.message}`);
      }
      throw err;
    }
  }

  async #sendWithRetries(context: SendContext): Promise<unknown> {
    const retry = this.#config.retry;
    const signal = context.mail.data.signal;
    const retries = retry && isReplayable(context.mail.data) ? retry.retries : 0;
    let failedAt = 0;
    let lastError: Error | undefined;
    const run = (attempt: number): Promise<unknown> => {
      if (signal?.aborted) return Promise.reject(abortErrorFrom(signal));
      context.attempt = attempt;
      context.span?.addEvent('attempt', { attempt });
      if (attempt > 1 && lastError) {
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
    if (!retry || retries === 0) return run(1);
    // The first attempt runs outside p-retry, so a send that succeeds first
    // time pays nothing for it; a failure is handed to p-retry as its own
    // first attempt, and it decides, waits and retries from there.
    const started = performance.now();
    let first: unknown;
    try {
      return await run(1);
    } catch (err) {
      first = err;
    }
    const maxRetryTime = Math.max(0, retry.maxRetryTime - (performance.now() - started));
    try {
      return await pRetry((attempt) => (attempt === 1 ? Promise.reject(first) : run(attempt)), {
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

  /** One attempt: the destinations in order, skipping open breakers, failing over on transient failures. */
  async #attempt(context: SendContext): Promise<unknown> {
    let last: MailError | undefined;
    for (const [index, destination] of this.#destinations.entries()) {
      const breaker = destination.state.breaker;
      if (breaker?.opened) {
        last = this.#circuitOpen(destination, context);
      } else {
        try {
          const run = () => this.#sendVia(destination, context);
          const info = breaker ? await breaker.fire(run) : await run();
          refundRetryTokens(destination.state);
          return info;
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          if (!isMailError(err) && code !== 'EOPENBREAKER') throw err;
          last = code === 'EOPENBREAKER' ? this.#circuitOpen(destination, context) : (err as MailError);
          context.failedAt = destination;
          if (last.name !== 'CircuitOpenError' && !last.retryable) throw last;
        }
      }
      const next = this.#destinations[index + 1];
      if (next) {
        const event: FailoverEvent = { from: destination.spec.label, to: next.spec.label, error: last, messageId: this.#messageIdOf(context.mail) };
        this.#log('warn', { ...this.#fields(last, context), event: 'failover', to: next.spec.label }, `failing over from ${event.from} to ${event.to}`);
        this.emit('failover', event);
        context.span?.addEvent('failover', { from: event.from, to: event.to, 'error.type': last.name });
        this.#hooks.onFailover?.(event);
      }
    }
    throw last!;
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
    const attempt = context.body.begin();
    return new Promise((resolve, reject) => {
      inner.send(context.mail, (raw, info) => {
        if (!raw) return resolve(info);
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
      const address = from ? /<([^>]+)>/.exec(from)?.[1] ?? from : undefined;
      name = ehloNameFromSender(address?.trim());
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
      return EMPTY_MESSAGE_ID;
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
