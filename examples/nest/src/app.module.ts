import { MailerHealthIndicator, MailerModule } from '@nestjs-modules/mailer';
import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { resilient } from 'nodemailer-resilient';
import { MailHealth } from './mail.health';
import { WelcomeMail } from './welcome.mail';

@Module({
  imports: [
    MailerModule.forRootAsync({
      useFactory: () => ({
        // The whole integration: resilient() is a nodemailer transport, so it goes where a transport goes.
        transport: resilient({
          host: process.env.SMTP_HOST,
          port: process.env.SMTP_PORT,
          auth: { user: process.env.SMTP_USER, pass: process.env.SMTP_PASS },
          retry: { retries: 2, minTimeout: 500 },
        }),
        defaults: { from: '"Example" <no-reply@example.com>' },
        // At start-up the mailer calls verify(): it connects and logs in, so a down server is logged as an error.
        verifyTransporters: true,
      }),
    }),
    TerminusModule,
  ],
  providers: [WelcomeMail, MailHealth, MailerHealthIndicator],
})
export class AppModule {}
