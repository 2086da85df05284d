// What every scenario sends, and the two clients being compared.
import nodemailer from 'nodemailer';
import { resilient } from '../../dist/index.js';

export const MESSAGE = Object.freeze({
  from: 'Bench <bench@bench.example.com>',
  to: 'sink@bench.example.com',
  subject: 'benchmark',
  text: 'A short message, as most transactional mail is.\n',
});

/** The SMTP options both clients get. */
export function smtpOptions(port, { pool = false, ...extra } = {}) {
  return {
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    name: 'bench.example.com',
    ...(pool ? { pool: true, maxConnections: 5 } : {}),
    ...extra,
  };
}

/** resilient()'s own options, on top of the SMTP ones. */
export const RESILIENCE = Object.freeze({
  retry: { retries: 2, minTimeout: 5 },
  breaker: { volumeThreshold: 5, resetTimeout: 30_000 },
});

/** `variant` is 'plain' (nodemailer alone) or 'resilient' (nodemailer + resilient()). */
export function createClient(variant, options) {
  if (variant === 'plain') return nodemailer.createTransport(options);
  if (variant === 'resilient') return nodemailer.createTransport(resilient({ ...options, ...RESILIENCE }));
  throw new Error(`unknown variant ${variant}`);
}

/**
 * Sends `count` messages keeping `concurrency` in flight. Calls `onResult`
 * with (error, info, milliseconds) for each. Never rejects.
 */
export async function sendMany(transporter, count, concurrency, onResult) {
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      const t0 = performance.now();
      try {
        const info = await transporter.sendMail(MESSAGE);
        onResult?.(null, info, performance.now() - t0);
      } catch (err) {
        onResult?.(err, undefined, performance.now() - t0);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
