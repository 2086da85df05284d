import { MailError } from './mail-error.js';

/** The server could not be reached, or it dropped or timed out the connection, or answered 421, before the message was handed over. */
export class ConnectionError extends MailError {
  override name = 'ConnectionError' as const;
}
