import { MailError } from './mail-error.js';

/** The server refused the sender at MAIL FROM (an unverified domain, for example). */
export class SenderRejectedError extends MailError {
  override name = 'SenderRejectedError' as const;
}
