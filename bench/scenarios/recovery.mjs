// Deliveries through a sink that fails 20% of transactions with a transient fault.
import { createClient, sendMany, smtpOptions } from '../lib/mail.mjs';

export async function recovery({ variant, port, count, concurrency }) {
  const transporter = createClient(variant, smtpOptions(port, { pool: true }));
  const latencies = [];
  const failures = {};
  // Failures that were not retried because the destination's retry budget was spent.
  let budgetSpent = 0;
  const t0 = performance.now();
  await sendMany(transporter, count, concurrency, (err, _info, ms) => {
    if (err) {
      const key = `${err.name}${err.responseCode ? ` ${err.responseCode}` : err.code ? ` ${err.code}` : ''}`;
      failures[key] = (failures[key] ?? 0) + 1;
      if (/retry budget/.test(err.hint ?? '')) budgetSpent++;
    } else {
      latencies.push(ms);
    }
  });
  const wallMs = performance.now() - t0;
  transporter.close();
  return { count, delivered: latencies.length, latencies, failures, budgetSpent, wallMs };
}
