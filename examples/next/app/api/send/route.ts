import nodemailer from 'nodemailer';
import { isCircuitOpenError, isMailError, resilient } from 'nodemailer-resilient';

// nodemailer needs Node's net and tls modules: not the Edge runtime.
export const runtime = 'nodejs';

function createMailer() {
  return nodemailer.createTransport(
    resilient({
      host: process.env.SMTP_HOST,
      port: process.env.SMTP_PORT,
      auth: { user: process.env.SMTP_USER, pass: process.env.SMTP_PASS },
      // A request is waiting: retry briefly here, and leave long waits to a queue.
      retry: { retries: 2, minTimeout: 250, maxRetryTime: 5_000 },
    }),
    { from: process.env.MAIL_FROM },
  );
}

// `next dev` re-evaluates modules on every edit: keep one transporter per process.
const cache = globalThis as typeof globalThis & { mailer?: ReturnType<typeof createMailer> };

export async function POST(request: Request): Promise<Response> {
  const body = (await request.json().catch(() => null)) as { to?: unknown } | null;
  if (typeof body?.to !== 'string') return Response.json({ error: 'Expected a JSON body { "to": "address" }' }, { status: 400 });
  try {
    cache.mailer ??= createMailer();
    const info = await cache.mailer.sendMail({ to: body.to, subject: 'Hello', text: 'Sent from a Next.js route handler.' });
    return Response.json({ messageId: info.messageId });
  } catch (err) {
    if (!isMailError(err)) throw err;
    // The hint names the fix; it is free of secrets, but it is for the logs, not for the client.
    console.error(`mail to ${body.to} failed: ${err.name}: ${err.hint}`);
    if (isCircuitOpenError(err)) {
      return Response.json({ error: err.name }, { status: 503, headers: { 'Retry-After': String(Math.ceil(err.retryAfterMs / 1000)) } });
    }
    if (err.retryable) return Response.json({ error: err.name }, { status: 503, headers: { 'Retry-After': '60' } });
    return Response.json({ error: err.name }, { status: err.name === 'RecipientsRejectedError' ? 422 : 502 });
  }
}
