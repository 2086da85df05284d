import { MailError } from './mail-error.js';

/** The TLS handshake failed, the TLS mode did not match the port, the certificate was not trusted, or the server requires STARTTLS. */
export class TlsError extends MailError {
  override name = 'TlsError' as const;
}
