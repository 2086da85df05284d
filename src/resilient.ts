import { normalizeOptions } from './config/normalize-options.js';
import { createLog, type Logger } from './logger.js';
import type { ResilientOptions } from './options.js';
import { collectSecrets, createRedactor } from './redact.js';
import { ResilientTransport } from './transport.js';

/**
 * Builds the transport to hand to `nodemailer.createTransport()`.
 *
 * Options are normalised here, once, before any connection: bad options
 * throw a ConfigError at start-up rather than at the first send.
 *
 * @example
 * const transporter = nodemailer.createTransport(resilient({ host: 'smtp.example.com', port: 587, auth }));
 */
export function resilient(optionsOrUrl: ResilientOptions | string): ResilientTransport {
  const config = normalizeOptions(optionsOrUrl);
  const given = typeof optionsOrUrl === 'object' && optionsOrUrl !== null ? optionsOrUrl : {};
  const secrets = config.destinations.flatMap((d) => collectSecrets(d.smtp?.auth));
  if (typeof optionsOrUrl === 'object' && optionsOrUrl !== null) secrets.push(...collectSecrets(optionsOrUrl.auth));
  const redact = createRedactor([...new Set(secrets)].sort((a, b) => b.length - a.length));
  const logger = given.logger as Logger | boolean | undefined;
  return new ResilientTransport(config, {
    log: createLog(logger, redact),
    redact,
    logger,
    hooks: {
      ...(given.onRetry ? { onRetry: given.onRetry } : {}),
      ...(given.onBreakerStateChange ? { onBreakerStateChange: given.onBreakerStateChange } : {}),
      ...(given.onFailover ? { onFailover: given.onFailover } : {}),
    },
  });
}
