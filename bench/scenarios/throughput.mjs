// One timed run of one client: messages per second and client CPU per message.
import { createClient, sendMany, smtpOptions } from '../lib/mail.mjs';

export async function throughput({ variant, pool, port, count, warmup, concurrency }) {
  const transporter = createClient(variant, smtpOptions(port, { pool }));
  let failures = 0;
  let firstError;
  const onResult = (err) => {
    if (err) {
      failures++;
      firstError ??= `${err.name}: ${err.message}`;
    }
  };
  // Warm-up: opens the pool's connections and gets the code paths compiled.
  await sendMany(transporter, warmup, concurrency, onResult);
  // The previous run's garbage is not this run's cost.
  globalThis.gc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sendMany(transporter, count, concurrency, onResult);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  transporter.close();
  if (failures) throw new Error(`${failures} of ${warmup + count} sends failed (${firstError}) against the fast sink`);
  return { ms, perSecond: (count / ms) * 1000, cpuUsPerMessage: (cpu.user + cpu.system) / count };
}
