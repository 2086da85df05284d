import nodemailer from 'nodemailer';
import { resilient, isMailError } from 'nodemailer-resilient';

const transporter = nodemailer.createTransport(
  resilient({
    host: process.env.SMTP_HOST,
    port: process.env.SMTP_PORT, // '465' or '587': the port decides the TLS mode
    secure: process.env.SMTP_SECURE === 'true',
    auth: { user: process.env.SMTP_USERNAME, pass: process.env.SMTP_PASSWORD }, // empty means no AUTH
  }),
  { from: 'My App <no-reply@myapp.example>' }, // the EHLO name comes from this domain
);

try {
  const info = await transporter.sendMail({ to: 'user@example.net', subject: 'Welcome', text: 'Hello!' });
  console.log('sent', info.messageId, 'rejected:', info.rejected);
} catch (err) {
  if (isMailError(err)) console.error(`${err.name} (retryable: ${err.retryable}): ${err.message}\nFix: ${err.hint}`);
  process.exitCode = 1;
}
