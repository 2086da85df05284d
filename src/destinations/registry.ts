import type { BreakerOptions, BreakerState, RetryBudgetOptions } from '../options.js';
import { DestinationBreaker } from './breaker.js';
import { RetryBudget } from './retry-budget.js';

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
  readonly key: string;
  readonly label: string;
  readonly breaker: DestinationBreaker | undefined;
  readonly budget: RetryBudget | undefined;
  readonly subscribers: Set<WeakRef<BreakerSubscriber>>;
}

export interface DestinationOptions {
  breaker: Required<BreakerOptions> | false;
  retryBudget: Required<RetryBudgetOptions> | false;
  /** Which failures open the breaker (the send policy decides). */
  countsAgainstDestination: (err: unknown) => boolean;
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

function notifySubscribers(state: DestinationState, change: BreakerState): void {
  const reported = new Set<unknown>();
  for (const ref of state.subscribers) {
    const subscriber = ref.deref();
    if (subscriber) subscriber.onBreakerState(change, state.label, reported);
    else state.subscribers.delete(ref);
  }
}

function evictIfFull(): void {
  if (registry.size < MAX_DESTINATIONS) return;
  let victim: DestinationState | undefined;
  for (const state of registry.values()) {
    if (!state.breaker || state.breaker.isClosed) {
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
export function acquireDestination(key: string, label: string, options: DestinationOptions, subscriber: BreakerSubscriber): DestinationState {
  let state = registry.get(key);
  if (state) {
    // Map order is our LRU order.
    registry.delete(key);
    registry.set(key, state);
  } else {
    evictIfFull();
    const subscribers = new Set<WeakRef<BreakerSubscriber>>();
    const created: DestinationState = {
      key,
      label,
      subscribers,
      budget: options.retryBudget ? new RetryBudget(options.retryBudget) : undefined,
      breaker: options.breaker
        ? new DestinationBreaker(options.breaker, options.countsAgainstDestination, (change) => notifySubscribers(created, change))
        : undefined,
    };
    state = created;
    registry.set(key, state);
  }
  state.subscribers.add(new WeakRef(subscriber));
  if (state.subscribers.size % 256 === 0) {
    for (const ref of state.subscribers) if (!ref.deref()) state.subscribers.delete(ref);
  }
  return state;
}

/** Lets a closed transport go: a healthy destination nobody uses any more is forgotten, timers and all. */
export function releaseDestination(state: DestinationState, subscriber: BreakerSubscriber): void {
  for (const ref of state.subscribers) {
    const s = ref.deref();
    if (!s || s === subscriber) state.subscribers.delete(ref);
  }
  if (state.subscribers.size === 0 && (!state.breaker || state.breaker.isClosed) && registry.get(state.key) === state) {
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
