import { toMailError } from '../errors/to-mail-error.js';
import type { SendContext } from './context.js';
import type { RuntimeDestination } from './runtime.js';

/** One send through one destination, behind its breaker (`isBreakerRefusal` tells a refusal). */
export function tryDestination(context: SendContext, index: number): Promise<unknown> {
  const destination = context.runtime.destinations[index]!;
  const breaker = destination.state.breaker;
  if (!breaker) return destination.sendThrough(context);
  return breaker.fire(destination.sendThrough, context);
}

/**
 * One attempt through one destination's inner transport, its failure
 * classified. A plain promise chain: this runs for every message.
 */
export function sendThrough(destination: RuntimeDestination, context: SendContext): Promise<unknown> {
  const inner = destination.inners.get(context.ehloName);
  const attempt = context.body.beginAttempt();
  return new Promise((resolve, reject) => {
    inner.send(context.mail, (raw, info) => {
      if (!raw) {
        destination.state.budget?.refund();
        return resolve(info);
      }
      const code = (raw as { code?: unknown }).code;
      if (code === 'EABORT' || raw.name === 'AbortError') return reject(raw);
      const { spec } = destination;
      const { config, redact } = context.runtime;
      reject(
        toMailError(raw, {
          bodySent: attempt.bodySent,
          secure: spec.smtp ? spec.smtp.secure === true : undefined,
          port: spec.port,
          destination: spec.label,
          attempts: context.attempt,
          redact,
          resendOnUnknownDelivery: config.resendOnUnknownDelivery,
        }),
      );
    });
  });
}
