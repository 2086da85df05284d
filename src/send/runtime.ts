import type { NormalizedConfig, NormalizedDestination } from '../config/normalize-options.js';
import type { InnerTransports } from '../destinations/inner-transports.js';
import type { DestinationState } from '../destinations/registry.js';
import type { Log } from '../logger.js';
import type { FailoverEvent, ResilientOptions, RetryEvent } from '../options.js';
import type { Redactor } from '../redact.js';
import type { SendContext } from './context.js';

export interface Hooks {
  onRetry?: ResilientOptions['onRetry'];
  onBreakerStateChange?: ResilientOptions['onBreakerStateChange'];
  onFailover?: ResilientOptions['onFailover'];
}

/** One destination as one transport sees it: the shared state, and its own inner transports. */
export interface RuntimeDestination {
  readonly spec: NormalizedDestination;
  readonly state: DestinationState;
  readonly inners: InnerTransports;
  /** One attempt through this destination; made once, so that a send hands the breaker no new closure. */
  readonly sendThrough: (context: SendContext) => Promise<unknown>;
}

/** What the send path needs of the transport that runs it. */
export interface SendRuntime {
  readonly config: NormalizedConfig;
  readonly destinations: readonly RuntimeDestination[];
  /** A sender is required when any destination dials SMTP. */
  readonly dialsSmtp: boolean;
  readonly log: Log;
  readonly redact: Redactor;
  readonly hooks: Hooks;
  /** Emits one of the transport's own events. */
  emit(event: 'retry', payload: RetryEvent): void;
  emit(event: 'failover', payload: FailoverEvent): void;
  /** Answers nodemailer for one send (called once per send); the transport may be idle after it. */
  answer(callback: (err: Error | null, info?: unknown) => void, err: Error | null, info?: unknown): void;
}
