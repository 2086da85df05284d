import { MailError } from './mail-error.js';

/** The server refused the EHLO/HELO name, at EHLO or (with delayed rejection) at RCPT TO. */
export class HeloRejectedError extends MailError {
  override name = 'HeloRejectedError' as const;
}
