import { MailError, type MailErrorInit } from './mail-error.js';

/**
 * The destination's circuit breaker is open: the send was refused at once,
 * without a connection. `retryAfterMs` says when the breaker will let a
 * probe through.
 */
export class CircuitOpenError extends MailError {
  override name = 'CircuitOpenError' as const;
  /** Milliseconds until the breaker lets the next probe through (0 when one is due now). */
  retryAfterMs: number;

  constructor(message: string, init: MailErrorInit & { retryAfterMs: number }) {
    super(message, init);
    this.retryAfterMs = init.retryAfterMs;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), retryAfterMs: this.retryAfterMs };
  }
}
