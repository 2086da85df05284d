import { MailError } from './mail-error.js';

/** The server refused every recipient. */
export class RecipientsRejectedError extends MailError {
  override name = 'RecipientsRejectedError' as const;
}
