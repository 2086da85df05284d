import { MailError, type MailErrorInit } from './mail-error.js';

/**
 * Bad options or message data, found before any connection was made.
 * Thrown by `resilient()` for bad options; a problem that depends on the
 * message rejects `sendMail`. Never retried.
 */
export class ConfigError extends MailError {
  override name = 'ConfigError' as const;

  constructor(message: string, hint: string, init: Partial<MailErrorInit> = {}) {
    super(message, { code: 'ECONFIG', ...init, retryable: false, hint });
  }
}
