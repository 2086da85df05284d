// What every scenario sends, and the two clients being compared.
import nodemailer from 'nodemailer';
import CircuitBreaker from 'opossum';
import { resilient } from '../../dist/index.js';

export const MESSAGE = Object.freeze({
  from: 'Bench <bench@bench.example.com>',
  to: 'sink@bench.example.com',
  subject: 'benchmark',
  text: 'A short message, as most transactional mail is.\n',
});

const RESET_URL = 'https://app.example.com/reset?token=0f8fad5bd9cb469fa16570867728950e';
const PARAGRAPH =
  'We received a request to reset the password for your account. If you made this request, use the button below ' +
  'within the next hour. If you did not, you can ignore this e-mail: your password stays as it is.';

/**
 * A password-reset e-mail as apps send them: an HTML body with inline styles
 * (about 6 KB, as e-mail templates render) and its text alternative.
 */
export const TRANSACTIONAL_MESSAGE = Object.freeze({
  from: 'Example App <no-reply@bench.example.com>',
  to: 'Jane Doe <jane.doe@bench.example.com>',
  subject: 'Reset your password',
  text: `Hello Jane,\n\n${PARAGRAPH}\n\nReset your password: ${RESET_URL}\n\nThe Example App team\n`,
  html:
    '<!doctype html><html><head><meta charset="utf-8"><title>Reset your password</title></head>' +
    '<body style="margin:0;padding:0;background-color:#f4f4f7;font-family:Helvetica,Arial,sans-serif;">' +
    Array.from(
      { length: 12 },
      (_, i) =>
        `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:570px;margin:0 auto;background:#ffffff;">` +
        `<tr><td style="padding:${8 + i}px 35px;color:#51545e;font-size:16px;line-height:1.625;">${PARAGRAPH}</td></tr></table>`,
    ).join('') +
    `<p style="text-align:center;"><a href="${RESET_URL}" style="background-color:#3869d4;color:#ffffff;padding:10px 18px;border-radius:3px;text-decoration:none;">Reset your password</a></p>` +
    '</body></html>',
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

/** The opossum options resilient() builds from RESILIENCE and its defaults (src/breaker.ts). */
const BREAKER_ONLY_OPTIONS = Object.freeze({
  timeout: false,
  resetTimeout: 30_000,
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  rollingCountTimeout: 60_000,
  rollingCountBuckets: 10,
  enableSnapshots: false,
  rollingPercentilesEnabled: false,
});

/**
 * The least a transport that puts a breaker around every send can do: nodemailer's
 * own transport behind one opossum fire() and one promise per message, and nothing
 * else (no retries, no classification, no checks). What it costs is the floor under
 * resilient()'s cost with the breaker this project uses.
 */
function breakerOnly(options) {
  const inner = nodemailer.createTransport(options).transporter;
  // A copy: opossum writes its defaults into the options object it is given.
  const breaker = new CircuitBreaker((run) => run(), { ...BREAKER_ONLY_OPTIONS });
  const sendOnce = (mail) => new Promise((resolve, reject) => inner.send(mail, (err, info) => (err ? reject(err) : resolve(info))));
  return nodemailer.createTransport({
    name: 'breaker-only',
    version: '1',
    send: (mail, callback) => breaker.fire(() => sendOnce(mail)).then((info) => callback(null, info), callback),
    isIdle: () => inner.isIdle?.() ?? true,
    close: () => {
      inner.close?.();
      breaker.shutdown();
    },
  });
}

/**
 * `variant` is 'plain' (nodemailer alone), 'resilient' (nodemailer + resilient())
 * or 'breaker-only' (nodemailer behind a bare opossum breaker, for reference).
 */
export function createClient(variant, options) {
  if (variant === 'plain') return nodemailer.createTransport(options);
  if (variant === 'resilient') return nodemailer.createTransport(resilient({ ...options, ...RESILIENCE }));
  if (variant === 'breaker-only') return breakerOnly(options);
  throw new Error(`unknown variant ${variant}`);
}

/**
 * Sends `count` messages keeping `concurrency` in flight. Calls `onResult`
 * with (error, info, milliseconds) for each. Never rejects.
 */
export async function sendMany(transporter, count, concurrency, onResult, message = MESSAGE) {
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      const t0 = performance.now();
      try {
        const info = await transporter.sendMail(message);
        onResult?.(null, info, performance.now() - t0);
      } catch (err) {
        onResult?.(err, undefined, performance.now() - t0);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
