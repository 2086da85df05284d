import { MailerService } from '@nestjs-modules/mailer';
import { Injectable } from '@nestjs/common';
import { isMailError } from 'nodemailer-resilient';

@Injectable()
export class WelcomeMail {
  constructor(private readonly mailer: MailerService) {}

  /** Sends the welcome mail; a permanent failure comes back as `{ sent: false }` with the library's hint. */
  async send(to: string): Promise<{ sent: true; messageId: string } | { sent: false; error: string; hint: string }> {
    try {
      const info = await this.mailer.sendMail({ to, subject: 'Welcome', text: 'Thanks for signing up.' });
      return { sent: true, messageId: (info as { messageId: string }).messageId };
    } catch (err) {
      if (isMailError(err) && !err.retryable) return { sent: false, error: err.name, hint: err.hint };
      throw err;
    }
  }
}
