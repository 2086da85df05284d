import { isBreakerRefusal } from '../destinations/breaker.js';
import { CircuitOpenError } from '../errors/circuit-open-error.js';
import { isMailError } from '../errors/guards.js';
import type { MailError } from '../errors/mail-error.js';
import { messageIdOf } from '../nodemailer/mail-like.js';
import type { FailoverEvent } from '../options.js';
import { tryDestination } from './attempt.js';
import { type SendContext, logFields } from './context.js';
import { failsOver } from './policy.js';
import type { RuntimeDestination } from './runtime.js';

/** One attempt from destination `index` on: skips open breakers, fails over on transient failures. */
export function attemptFrom(context: SendContext, index = 0): Promise<unknown> {
  return tryDestination(context, index).catch((err: unknown) => afterDestinationFailed(context, index, err));
}

/** The next destination when the failure allows it, else the error for this attempt. */
export function afterDestinationFailed(context: SendContext, index: number, err: unknown): Promise<unknown> {
  const destination = context.runtime.destinations[index]!;
  const refused = isBreakerRefusal(err);
  if (!refused && !isMailError(err)) return Promise.reject(err);
  const error: MailError = refused ? circuitOpenError(destination, context) : (err as MailError);
  context.failedAt = destination;
  if (!failsOver(error)) return Promise.reject(error);
  return failOver(context, index, error);
}

/** Tries the next destination, or gives the caller the last error when there is none. */
function failOver(context: SendContext, index: number, error: MailError): Promise<unknown> {
  const { runtime } = context;
  const next = runtime.destinations[index + 1];
  if (!next) return Promise.reject(error);
  const event: FailoverEvent = { from: runtime.destinations[index]!.spec.label, to: next.spec.label, error, messageId: messageIdOf(context.mail) };
  runtime.log('warn', { ...logFields(error, context), event: 'failover', to: next.spec.label }, `failing over from ${event.from} to ${event.to}`);
  runtime.emit('failover', event);
  context.span?.addEvent('failover', { from: event.from, to: event.to, 'error.type': error.name });
  runtime.hooks.onFailover?.(event);
  return attemptFrom(context, index + 1);
}

function circuitOpenError(destination: RuntimeDestination, context: SendContext): CircuitOpenError {
  const wait = destination.state.breaker?.retryAfterMs() ?? 0;
  const { label } = destination.spec;
  return new CircuitOpenError(`The circuit breaker for ${label} is open: no connection was made`, {
    code: 'EBREAKER',
    retryable: false,
    hint: `Recent sends to ${label} kept failing; the next probe is due in ${Math.ceil(wait / 1000)} s. Check the server, or add a failover destination.`,
    destination: label,
    attempts: context.attempt,
    retryAfterMs: wait,
  });
}
