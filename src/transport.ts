import { EventEmitter } from 'node:events';
import type { NormalizedConfig } from './config/normalize-options.js';
import { InnerTransports } from './destinations/inner-transports.js';
import { type BreakerSubscriber, acquireDestination, releaseDestination } from './destinations/registry.js';
import { toMailError } from './errors/to-mail-error.js';
import type { Log, Logger } from './logger.js';
import { redactingLogger } from './logger.js';
import { ehloNameFromSender } from './message/ehlo-name.js';
import type { MailLike } from './nodemailer/mail-like.js';
import { defaultSenderOf } from './nodemailer/mailer-defaults.js';
import type { BreakerEvent, BreakerState } from './options.js';
import type { Redactor } from './redact.js';
import { sendThrough } from './send/attempt.js';
import { countsAgainstDestination } from './send/policy.js';
import type { Hooks, RuntimeDestination, SendRuntime } from './send/runtime.js';
import { startSend } from './send/start.js';
import { VERSION } from './version.js';

type Callback = (err: Error | null, info?: unknown) => void;

export interface NormalizationReport {
  destination: string;
  changes: string[];
  warnings: string[];
}

/**
 * The transport nodemailer calls: the plugin surface (send, verify, close,
 * isIdle and events). What happens to a message is in `send/`; what the
 * process remembers about a destination is in `destinations/`.
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

  readonly #runtime: SendRuntime;
  /** The logger the app gave (or a marker for none): breaker changes are logged once per logger. */
  readonly #logSink: unknown;
  #inflight = 0;

  constructor(config: NormalizedConfig, options: { log: Log; redact: Redactor; hooks: Hooks; logger: Logger | boolean | undefined }) {
    super();
    // Own, bound copies of the plugin methods: Auth.js deep-merges its provider's `server` option
    // into a plain object, and an object spread does the same; both copy own enumerable properties only.
    this.send = this.send.bind(this);
    this.verify = this.verify.bind(this);
    this.close = this.close.bind(this);
    this.isIdle = this.isIdle.bind(this);
    const { log, redact } = options;
    this.#logSink = options.logger && typeof options.logger === 'object' ? options.logger : log;
    const innerLogger = options.logger && typeof options.logger === 'object' ? redactingLogger(options.logger, redact) : options.logger;
    const destinations = config.destinations.map((spec) => {
      const state = acquireDestination(spec.key, spec.label, { breaker: config.breaker, retryBudget: config.retryBudget, countsAgainstDestination }, this);
      const inners = new InnerTransports(spec, {
        logger: innerLogger,
        onIdle: () => this.#emitIdleIfIdle(),
        onError: (err: unknown) => {
          if (this.listenerCount('error') > 0) this.emit('error', toMailError(err, { redact, destination: spec.label }));
        },
        mailer: () => this.mailer,
      });
      const destination: RuntimeDestination = { spec, state, inners, sendThrough: (context) => sendThrough(destination, context) };
      return destination;
    });
    this.#runtime = {
      config,
      destinations,
      dialsSmtp: config.destinations.some((d) => d.kind === 'smtp'),
      log,
      redact,
      hooks: options.hooks,
      emit: (event: string, payload: unknown) => this.emit(event, payload),
      answer: (callback: Callback, err: Error | null, info?: unknown) => {
        this.#inflight--;
        callback(err, info);
        this.#emitIdleIfIdle();
      },
    };
    this.normalization = config.destinations
      .filter((d) => d.notes.length || d.warnings.length)
      .map((d) => ({ destination: d.label, changes: [...d.notes], warnings: [...d.warnings] }));
    for (const report of this.normalization) {
      for (const change of report.changes) log('warn', { destination: report.destination, event: 'normalize' }, change);
      for (const warning of report.warnings) log('warn', { destination: report.destination, event: 'normalize' }, warning);
    }
    // Listeners attached right after construction still hear it.
    if (this.normalization.length) queueMicrotask(() => this.emit('normalize', this.normalization));
  }

  /** nodemailer's plugin entry point. The callback is called exactly once. */
  send(mail: MailLike, callback: Callback): void {
    this.#inflight++;
    startSend(this.#runtime, mail, callback);
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
    const { config, destinations, redact } = this.#runtime;
    const destination = destinations[0]!;
    let name = destination.spec.smtp?.name as string | undefined;
    if (!name && config.ehloFromSender) name = ehloNameFromSender(defaultSenderOf(this.mailer));
    const inner = destination.inners.get(name);
    if (typeof inner.verify !== 'function') return true;
    try {
      await new Promise((resolve, reject) => {
        const maybe = inner.verify!((err, ok) => (err ? reject(err) : resolve(ok)));
        if (maybe && typeof (maybe as Promise<unknown>).then === 'function') (maybe as Promise<unknown>).then(resolve, reject);
      });
      return true;
    } catch (raw) {
      const { spec } = destination;
      throw toMailError(raw, { secure: spec.smtp?.secure === true, port: spec.port, destination: spec.label, redact });
    }
  }

  isIdle(): boolean {
    if (this.#inflight > 0) return false;
    return this.#runtime.destinations.every((destination) => destination.inners.isIdle());
  }

  /** Closes every inner transport and lets go of the shared destination state. */
  close(): void {
    for (const destination of this.#runtime.destinations) {
      destination.inners.close();
      releaseDestination(destination.state, this);
    }
  }

  /** Called by the shared destination registry. */
  onBreakerState(state: BreakerState, destination: string, reported: Set<unknown>): void {
    const event: BreakerEvent = { state, destination };
    if (!reported.has(this.#logSink)) {
      reported.add(this.#logSink);
      const level = state === 'open' ? 'warn' : 'info';
      this.#runtime.log(level, { destination, event: 'breaker', state }, `circuit breaker for ${destination} is ${state === 'close' ? 'closed' : state}`);
    }
    const hook = this.#runtime.hooks.onBreakerStateChange;
    if (hook && !reported.has(hook)) {
      reported.add(hook);
      hook(event);
    }
    this.emit('breaker', event);
  }

  #emitIdleIfIdle(): void {
    if (this.isIdle()) this.emit('idle');
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
