import { MailError } from './mail-error.js';

/** The server refused the message itself, at DATA or at the end of data. */
export class MessageRejectedError extends MailError {
  override name = 'MessageRejectedError' as const;
}
