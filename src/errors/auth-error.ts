import { MailError } from './mail-error.js';

/** Authentication failed, was required but not configured, or credentials were missing. */
export class AuthError extends MailError {
  override name = 'AuthError' as const;
}
