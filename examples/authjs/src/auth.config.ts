import type { AuthConfig } from '@auth/core';
import Nodemailer from '@auth/core/providers/nodemailer';
import { resilient } from 'nodemailer-resilient';
import { memoryAdapter } from './memory-adapter.js';

/** The configuration an app hands to Auth.js (`NextAuth(config)`, `ExpressAuth(config)`, `Auth(request, config)`). */
export function authConfig(): AuthConfig & { providers: [ReturnType<typeof Nodemailer>] } {
  return {
    basePath: '/auth',
    trustHost: true,
    secret: process.env.AUTH_SECRET,
    adapter: memoryAdapter(),
    session: { strategy: 'jwt' },
    providers: [
      Nodemailer({
        // The whole integration: a resilient transport where Auth.js takes nodemailer's `server`.
        server: resilient({
          host: process.env.EMAIL_SERVER_HOST,
          port: process.env.EMAIL_SERVER_PORT,
          auth: { user: process.env.EMAIL_SERVER_USER, pass: process.env.EMAIL_SERVER_PASSWORD },
          retry: { retries: 2, minTimeout: 250, maxRetryTime: 5_000 },
        }),
        from: process.env.EMAIL_FROM,
      }),
    ],
  };
}
