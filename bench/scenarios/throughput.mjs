// Timed runs of the clients: messages per second and client CPU per message.
import { MESSAGE, TRANSACTIONAL_MESSAGE, createClient, sendMany, smtpOptions } from '../lib/mail.mjs';

/** Counts failed sends; `check()` throws with the first one, as the fast sink should accept them all. */
function failureCount() {
  let failures = 0;
  let firstError;
  return {
    onResult: (err) => {
      if (err) {
        failures++;
        firstError ??= `${err.name}: ${err.message}`;
      }
    },
    check: (sent) => {
      if (failures) throw new Error(`${failures} of ${sent} sends failed (${firstError}) against the fast sink`);
    },
  };
}

/** `count` sends, timed: wall clock, and the process's user + system CPU. */
async function timedRun(transporter, count, concurrency, onResult, message) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sendMany(transporter, count, concurrency, onResult, message);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, perSecond: (count / ms) * 1000, cpuUsPerMessage: (cpu.user + cpu.system) / count };
}

/** One client alone (bench/profile.mjs profiles it). */
export async function throughput({ variant, pool, port, count, warmup, concurrency }) {
  const transporter = createClient(variant, smtpOptions(port, { pool }));
  const failures = failureCount();
  // Warm-up: opens the pool's connections and gets the code paths compiled.
  await sendMany(transporter, warmup, concurrency, failures.onResult);
  // The previous run's garbage is not this run's cost.
  globalThis.gc();
  const run = await timedRun(transporter, count, concurrency, failures.onResult);
  transporter.close();
  failures.check(warmup + count);
  return run;
}

// The labels of one round: A and A2 are plain nodemailer (two clients, so
// that A/A gives the noise floor), B is resilient(), M is the breaker-only
// reference (nodemailer behind a bare opossum breaker).
const ROUND_CLIENTS = { A: 'plain', A2: 'plain', B: 'resilient', M: 'breaker-only' };
// A Latin square: each client takes each place in the order equally often.
const ORDERS = [
  ['A', 'B', 'A2', 'M'],
  ['B', 'M', 'A', 'A2'],
  ['A2', 'A', 'M', 'B'],
  ['M', 'A2', 'B', 'A'],
];

/**
 * One round: the four clients live in this one process and take turns in
 * short batches, so that what the shared machine does meanwhile (other
 * tenants, CPU frequency) lands on all four alike, as does whatever makes
 * one process faster than another. Each client first sends `compile`
 * messages: V8 needs thousands of sends to finish compiling a client,
 * and a server runs in the steady state, not in the first seconds.
 */
export async function throughputRound({ pool, port, compile, count, batches, concurrency, message = 'short' }) {
  const mail = message === 'transactional' ? TRANSACTIONAL_MESSAGE : MESSAGE;
  const clients = Object.fromEntries(Object.entries(ROUND_CLIENTS).map(([label, variant]) => [label, createClient(variant, smtpOptions(port, { pool }))]));
  const failures = failureCount();
  for (const label of ORDERS[0]) await sendMany(clients[label], compile, concurrency, failures.onResult, mail);
  const runs = Object.fromEntries(Object.keys(ROUND_CLIENTS).map((label) => [label, []]));
  for (let b = 0; b < batches; b++) {
    // No forced GC between batches: V8 sweeps after a full GC on background threads, and that
    // CPU would land in the next batch. Collecting its own garbage is part of a client's cost.
    for (const label of ORDERS[b % ORDERS.length]) runs[label].push(await timedRun(clients[label], count, concurrency, failures.onResult, mail));
  }
  for (const client of Object.values(clients)) client.close();
  failures.check(ORDERS[0].length * (compile + batches * count));
  return runs;
}
