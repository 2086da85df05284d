// One timed run of one client: messages per second and client CPU per message.
import { MESSAGE, TRANSACTIONAL_MESSAGE, createClient, sendMany, smtpOptions } from '../lib/mail.mjs';

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

// The labels of one round: A and A2 are plain nodemailer (two clients, so
// that A/A gives the noise floor), B is resilient().
const ROUND_CLIENTS = { A: 'plain', A2: 'plain', B: 'resilient' };
const ORDERS = [
  ['A', 'B', 'A2'],
  ['B', 'A2', 'A'],
  ['A2', 'A', 'B'],
];

/**
 * One round: the three clients live in this one process and take turns in
 * short batches, so that what the shared machine does meanwhile (other
 * tenants, CPU frequency) lands on all three alike, as does whatever makes
 * one process faster than another. Each client first sends `compile`
 * messages: V8 needs thousands of sends to finish compiling either client,
 * and a server runs in the steady state, not in the first seconds.
 */
export async function throughputRound({ pool, port, compile, count, batches, concurrency, message = 'short' }) {
  const mail = message === 'transactional' ? TRANSACTIONAL_MESSAGE : MESSAGE;
  const clients = Object.fromEntries(Object.entries(ROUND_CLIENTS).map(([label, variant]) => [label, createClient(variant, smtpOptions(port, { pool }))]));
  let failures = 0;
  let firstError;
  const onResult = (err) => {
    if (err) {
      failures++;
      firstError ??= `${err.name}: ${err.message}`;
    }
  };
  for (const label of ORDERS[0]) await sendMany(clients[label], compile, concurrency, onResult, mail);
  const runs = { A: [], A2: [], B: [] };
  for (let b = 0; b < batches; b++) {
    for (const label of ORDERS[b % ORDERS.length]) {
      // No forced GC between batches: V8 sweeps after a full GC on background threads, and that
      // CPU would land in the next batch. Collecting its own garbage is part of a client's cost.
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await sendMany(clients[label], count, concurrency, onResult, mail);
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      runs[label].push({ perSecond: (count / ms) * 1000, cpuUsPerMessage: (cpu.user + cpu.system) / count });
    }
  }
  for (const client of Object.values(clients)) client.close();
  if (failures) throw new Error(`${failures} sends failed (${firstError}) against the fast sink`);
  return runs;
}
