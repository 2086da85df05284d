import CircuitBreaker from 'opossum';
import type { BreakerOptions, BreakerState } from '../options.js';

/** What `fire()` rejects with when an open breaker refused the call: no connection was tried. */
const BREAKER_OPEN: unique symbol = Symbol('nodemailer-resilient: breaker open');

/**
 * Whether `fire()` rejected because the breaker refused the call, open or
 * half-open with its probe already out (opossum's `EOPENBREAKER`).
 */
export function isBreakerRefusal(err: unknown): boolean {
  return err === BREAKER_OPEN || (err as { code?: unknown } | undefined)?.code === 'EOPENBREAKER';
}

type Attempt = (arg: never) => Promise<unknown>;

/**
 * One destination's circuit breaker. The only module that knows opossum's
 * API, its events and its open-breaker rejection (`EOPENBREAKER`).
 */
export class DestinationBreaker {
  readonly #breaker: CircuitBreaker<[Attempt, unknown], unknown>;
  readonly #resetTimeout: number;
  #openedAt = 0;

  /**
   * @param isFailure which rejections count against the destination (the rest pass as successes).
   * @param onState called on every state change.
   */
  constructor(options: Required<BreakerOptions>, isFailure: (err: unknown) => boolean, onState: (state: BreakerState) => void) {
    this.#resetTimeout = options.resetTimeout;
    this.#breaker = new CircuitBreaker((run: (arg: unknown) => Promise<unknown>, arg: unknown) => run(arg), {
      // Never reject a send that is still running: an app that resends after
      // such a timeout would deliver the message twice. socketTimeout bounds it.
      timeout: false,
      resetTimeout: options.resetTimeout,
      errorThresholdPercentage: options.errorThresholdPercentage,
      volumeThreshold: options.volumeThreshold,
      rollingCountTimeout: options.rollingCountTimeout,
      rollingCountBuckets: options.rollingCountBuckets,
      enableSnapshots: false,
      // We never read latency percentiles, and with them on every failure sorts
      // all latencies in the window: 13.5 ms of blocked event loop per failure
      // after 150,000 sends in the window (measured with opossum 9.0.0).
      rollingPercentilesEnabled: false,
      errorFilter: (err: unknown) => !isFailure(err),
    } as CircuitBreaker.Options) as CircuitBreaker<[Attempt, unknown], unknown>;
    this.#breaker.on('open', () => {
      this.#openedAt = Date.now();
      onState('open');
    });
    this.#breaker.on('halfOpen', () => onState('halfOpen'));
    this.#breaker.on('close', () => onState('close'));
  }

  /** Open, and not yet letting its probe through. */
  get isOpen(): boolean {
    return this.#breaker.opened;
  }

  get isClosed(): boolean {
    return this.#breaker.closed;
  }

  /** Milliseconds until an open breaker lets its probe through. */
  retryAfterMs(): number {
    return Math.max(0, this.#openedAt + this.#resetTimeout - Date.now());
  }

  /**
   * Runs `run(arg)` unless the breaker refuses it ({@link isBreakerRefusal}
   * tells a refusal). `run` is made once per destination, so a send hands the
   * breaker no new closure.
   */
  fire<T>(run: (arg: T) => Promise<unknown>, arg: T): Promise<unknown> {
    if (this.#breaker.opened) return Promise.reject(BREAKER_OPEN);
    return this.#breaker.fire(run as Attempt, arg);
  }

  shutdown(): void {
    this.#breaker.shutdown();
  }
}
