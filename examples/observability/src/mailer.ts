import nodemailer from 'nodemailer';
import { resilient } from 'nodemailer-resilient';
import type { Logger } from 'pino';

/**
 * pino goes where nodemailer takes a `logger` (bunyan and winston loggers do too). Each retry,
 * failover and failure is one structured record (destination, attempt, errorClass, retryable,
 * code, responseCode); the password is masked everywhere, nodemailer's own transcript included.
 */
export function createMailer(logger: Logger) {
  return nodemailer.createTransport(
    resilient({
      host: process.env.SMTP_HOST,
      port: process.env.SMTP_PORT,
      auth: { user: process.env.SMTP_USER, pass: process.env.SMTP_PASS },
      logger: logger.child({ module: 'mail' }),
      retry: { retries: 2, minTimeout: 100 },
    }),
  );
}
