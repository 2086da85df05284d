import { MailError } from './mail-error.js';

/** The whole message was written but the connection failed before the server answered: it may or may not have been accepted, so it is not sent again. */
export class DeliveryUnknownError extends MailError {
  override name = 'DeliveryUnknownError' as const;
}
