// How long a send takes to fail when the server is down.
import { createClient, MESSAGE, sendMany, smtpOptions } from '../lib/mail.mjs';

async function timeOne(transporter) {
  const t0 = performance.now();
  try {
    await transporter.sendMail(MESSAGE);
    return { ms: performance.now() - t0, error: 'delivered' };
  } catch (err) {
    return { ms: performance.now() - t0, error: err.name === 'Error' ? `Error ${err.code}` : err.name };
  }
}

async function timeSequential(transporter, count) {
  const out = [];
  for (let i = 0; i < count; i++) out.push(await timeOne(transporter));
  return out;
}

/**
 * `refusedPort`: nothing listens there, connections are refused at once.
 * `silentPort`: accepts the connection and never writes a byte.
 */
export async function failFast({ refusedPort, silentPort, count, warmup, greetingTimeout }) {
  // 1. The breaker, opened by refused connections (each one counts against
  //    the destination), then timed while it is open.
  const breakerClient = createClient('resilient', smtpOptions(refusedPort));
  await sendMany(breakerClient, 10, 10);
  const warm = await timeSequential(breakerClient, warmup);
  const opened = warm.at(-1)?.error === 'CircuitOpenError';
  const open = await timeSequential(breakerClient, count);
  breakerClient.close();

  // 2. Plain nodemailer against the same refused port, for scale.
  const refusedClient = createClient('plain', smtpOptions(refusedPort));
  await timeSequential(refusedClient, warmup);
  const refused = await timeSequential(refusedClient, count);
  refusedClient.close();

  // 3. A server that accepts and never greets: each send waits out
  //    greetingTimeout. A second wave shows whether resilient()'s breaker
  //    opened after the first.
  const options = smtpOptions(silentPort, greetingTimeout ? { greetingTimeout } : {});
  const plain = createClient('plain', options);
  const wrapped = createClient('resilient', options);
  const once = (transporter, n) => Promise.all(Array.from({ length: n }, () => timeOne(transporter)));
  const [plainHung, wrappedWave1] = await Promise.all([once(plain, 5), once(wrapped, 10)]);
  const wrappedWave2 = await once(wrapped, 5);
  plain.close();
  wrapped.close();

  return { opened, open, refused, plainHung, wrappedWave1, wrappedWave2, greetingTimeout: greetingTimeout ?? 30_000 };
}
