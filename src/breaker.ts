import CircuitBreaker from 'opossum';
import { isMailError } from './errors/guards.js';
import type { BreakerOptions, BreakerState, RetryBudgetOptions } from './options.js';

/** Who wants to hear about a destination's breaker; held weakly so per-send transports can be collected. */
export interface BreakerSubscriber {
  /**
   * `reported` is shared by every subscriber of one state change: a hook or
   * logger that many per-send transports share hears the change once.
   */
  onBreakerState(state: BreakerState, destination: string, reported: Set<unknown>): void;
}

/** What the process remembers about one destination (host, port, user). */
export interface DestinationState {
  key: string;
  label: string;
  /** Fired with one attempt and its argument: `fire(sendVia, context)`. */
  breaker: CircuitBreaker<[(arg: never) => Promise<unknown>, unknown], unknown> | undefined;
  resetTimeout: number;
  openedAt: number;
  /** Retry budget tokens left (AWS SDK-style retry quota). */
  tokens: number;
  budget: Required<RetryBudgetOptions> | false;
  subscribers: Set<WeakRef<BreakerSubscriber>>;
}

/**
 * Upper bound on destinations remembered at once. Beyond it the least
 * recently used healthy (closed) destination is forgotten; its breaker is
 * shut down. The bench measures about 8 KB a destination (mostly the
 * opossum breaker), so 1,000 destinations hold under 8 MB.
 */
export const MAX_DESTINATIONS = 1000;

// One registry per process, shared by the CommonJS and ESM copies of this
// package, so a breaker trips for every transport built for a destination.
const REGISTRY_KEY = Symbol.for('nodemailer-resilient.destinations.v1');
const globalRecord = globalThis as unknown as Record<symbol, Map<string, DestinationState> | undefined>;
const registry: Map<string, DestinationState> = (globalRecord[REGISTRY_KEY] ??= new Map());

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

function createBreaker(state: DestinationState, options: Required<BreakerOptions>): DestinationState['breaker'] {
  const breaker = new CircuitBreaker((run: (arg: unknown) => Promise<unknown>, arg: unknown) => run(arg), {
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
    errorFilter: (err: unknown) => !countsAgainstDestination(err),
  } as CircuitBreaker.Options);
  const notify = (s: BreakerState) => {
    if (s === 'open') state.openedAt = Date.now();
    const reported = new Set<unknown>();
    for (const ref of state.subscribers) {
      const subscriber = ref.deref();
      if (subscriber) subscriber.onBreakerState(s, state.label, reported);
      else state.subscribers.delete(ref);
    }
  };
  breaker.on('open', () => notify('open'));
  breaker.on('halfOpen', () => notify('halfOpen'));
  breaker.on('close', () => notify('close'));
  return breaker;
}

function evictIfFull(): void {
  if (registry.size < MAX_DESTINATIONS) return;
  let victim: DestinationState | undefined;
  for (const state of registry.values()) {
    if (!state.breaker || state.breaker.closed) {
      victim = state;
      break;
    }
  }
  victim ??= registry.values().next().value;
  if (victim) forget(victim);
}

function forget(state: DestinationState): void {
  state.breaker?.shutdown();
  registry.delete(state.key);
}

/**
 * The shared state of a destination, created on first use. The first
 * transport to name a destination sets its breaker and budget options.
 */
export function destinationState(
  key: string,
  label: string,
  breakerOptions: Required<BreakerOptions> | false,
  budget: Required<RetryBudgetOptions> | false,
): DestinationState {
  const existing = registry.get(key);
  if (existing) {
    // Map order is our LRU order.
    registry.delete(key);
    registry.set(key, existing);
    return existing;
  }
  evictIfFull();
  const state: DestinationState = {
    key,
    label,
    breaker: undefined,
    resetTimeout: breakerOptions ? breakerOptions.resetTimeout : 0,
    openedAt: 0,
    tokens: budget ? budget.capacity : 0,
    budget,
    subscribers: new Set(),
  };
  if (breakerOptions) state.breaker = createBreaker(state, breakerOptions);
  registry.set(key, state);
  return state;
}

/** Milliseconds until an open breaker lets its probe through. */
export function retryAfterMs(state: DestinationState): number {
  return Math.max(0, state.openedAt + state.resetTimeout - Date.now());
}

/** Takes retry tokens; false when the destination's budget cannot pay for another retry. */
export function takeRetryToken(state: DestinationState, afterTimeout: boolean): boolean {
  if (!state.budget) return true;
  const cost = afterTimeout ? state.budget.timeoutCost : state.budget.retryCost;
  if (state.tokens < cost) return false;
  state.tokens -= cost;
  return true;
}

export function refundRetryTokens(state: DestinationState): void {
  if (!state.budget) return;
  state.tokens = Math.min(state.budget.capacity, state.tokens + state.budget.successRefund);
}

/** Lets a closed transport go: a healthy destination nobody uses any more is forgotten, timers and all. */
export function releaseDestination(state: DestinationState, subscriber: BreakerSubscriber): void {
  for (const ref of state.subscribers) {
    const s = ref.deref();
    if (!s || s === subscriber) state.subscribers.delete(ref);
  }
  if (state.subscribers.size === 0 && (!state.breaker || state.breaker.closed) && registry.get(state.key) === state) {
    forget(state);
  }
}

/** Forgets every destination and shuts every breaker down (for tests and graceful shutdown). */
export function resetDestinations(): void {
  for (const state of [...registry.values()]) forget(state);
}

/** How many destinations the process remembers now. */
export function destinationCount(): number {
  return registry.size;
}
