// npm run bench [-- --smoke]
//
// Measures what wrapping nodemailer in resilient() costs when the server
// works and what it saves when it does not, in one run, against sinks in
// their own processes. Prints a table; a full run writes docs/benchmarks.md
// and docs/benchmarks.svg, a smoke run (--smoke or BENCH_SMOKE=1, for CI)
// writes them under the OS temp directory instead.
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderChart } from './lib/chart.mjs';
import { describeMachine } from './lib/machine.mjs';
import { killChildren, runAlone, startSink, startWorker } from './lib/processes.mjs';
import { renderMarkdown, renderTable } from './lib/report.mjs';
import { THROUGHPUT_MODES, targetOf } from './lib/modes.mjs';
import { median } from './lib/stats.mjs';
import { diagnosisTimes } from './scenarios/doctor.mjs';
import { summarizeFailFast, summarizeRecovery, summarizeThroughput, summarizeTls } from './lib/summaries.mjs';

const smoke = process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1';

/** How much of everything. A smoke run is a few hundred messages per row, well under a minute. */
const PLAN = smoke
  ? {
      concurrency: 20,
      pooled: { compile: 200, count: 100, batches: 3, rounds: 1 },
      unpooled: { compile: 100, count: 50, batches: 3, rounds: 1 },
      transactional: { compile: 100, count: 50, batches: 3, rounds: 1 },
      failFast: { count: 500, warmup: 200, greetingTimeout: 3000 },
      tls: { rounds: 1, greetingTimeout: 3000 },
      perSend: { count: 300 },
      recovery: { count: 300 },
      memory: { transports: 1000, extraDestinations: 2000 },
      doctor: { rounds: 1 },
    }
  : {
      concurrency: 20,
      pooled: { compile: 8000, count: 500, batches: 12, rounds: 8 },
      unpooled: { compile: 4000, count: 250, batches: 12, rounds: 8 },
      transactional: { compile: 6000, count: 400, batches: 12, rounds: 6 },
      // greetingTimeout left at nodemailer's default (30 s): what users wait.
      failFast: { count: 10_000, warmup: 500, greetingTimeout: undefined },
      tls: { rounds: 5, greetingTimeout: 3000 },
      perSend: { count: 10_000 },
      recovery: { count: 2000 },
      memory: { transports: 1000, extraDestinations: 10_000 },
      doctor: { rounds: 3 },
    };

const log = (line) => process.stderr.write(`${line}\n`);

/** A port nothing listens on: connections to it are refused at once. */
async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Rounds of A (plain nodemailer), A2 (plain nodemailer again: the A/A noise
 * floor), B (resilient()) and M (nodemailer behind a bare opossum breaker,
 * for reference), each round in a fresh worker process that runs all four in
 * turn (bench/scenarios/throughput.mjs says why). A round's figure for a
 * client is the median of its batches.
 */
async function measureThroughput(port, { pool, message }, plan) {
  const rounds = [];
  for (let r = 0; r < plan.rounds; r++) {
    const worker = startWorker();
    const runs = await worker.call('throughputRound', { pool, message, port, compile: plan.compile, count: plan.count, batches: plan.batches, concurrency: PLAN.concurrency });
    await worker.stop();
    const round = Object.fromEntries(
      Object.entries(runs).map(([label, batches]) => [
        label,
        { perSecond: median(batches.map((x) => x.perSecond)), cpuUsPerMessage: median(batches.map((x) => x.cpuUsPerMessage)) },
      ]),
    );
    rounds.push(round);
    log(
      `  ${pool ? 'pooled' : 'unpooled'}, ${message} message, round ${r + 1}/${plan.rounds}: ` +
        ['A', 'A2', 'B', 'M'].map((l) => `${l} ${Math.round(round[l].perSecond)}/s ${Math.round(round[l].cpuUsPerMessage)}µs`).join(', '),
    );
  }
  return rounds;
}

async function main() {
  const started = new Date();
  const t0 = performance.now();
  const machine = describeMachine();
  log(`nodemailer-resilient bench (${smoke ? 'smoke' : 'full'}) on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`);
  const results = { smoke, plan: PLAN, machine, date: started.toISOString() };
  log('throughput: fast sink, 20 in flight');
  const fast = await startSink('fast');
  results.throughput = {};
  for (const mode of THROUGHPUT_MODES) {
    results.throughput[mode.key] = summarizeThroughput(await measureThroughput(fast.port, mode, PLAN[mode.key]), targetOf(mode));
  }

  log('per-send construction');
  const perSend = {};
  for (const variant of ['plain', 'resilient']) {
    perSend[variant] = await runAlone('per-send.mjs', [variant, fast.port, PLAN.perSend.count, PLAN.concurrency]);
  }
  results.perSend = perSend;
  await fast.stop();

  log('fail-fast: breaker open, and a listener that never greets');
  const silent = await startSink('silent');
  const worker = startWorker();
  const workers = { plain: startWorker(), resilient: startWorker() };
  const failFast = await worker.call('failFast', {
    refusedPort: await closedPort(),
    silentPort: silent.port,
    count: PLAN.failFast.count,
    warmup: PLAN.failFast.warmup,
    greetingTimeout: PLAN.failFast.greetingTimeout,
  });
  results.failFast = summarizeFailFast(failFast);
  await silent.stop();

  log('TLS mode: secure: false on an implicit-TLS port');
  const tls = await startSink('tls');
  results.tls = summarizeTls(await worker.call('tlsMode', { tlsPort: tls.port, ...PLAN.tls }));
  await tls.stop();

  log('recovery: 20% transient faults');
  const faulty = await startSink('faulty');
  const recovery = {};
  for (const variant of ['plain', 'resilient']) {
    await faulty.reset();
    const run = await workers[variant].call('recovery', { variant, port: faulty.port, count: PLAN.recovery.count, concurrency: PLAN.concurrency });
    const { stats } = await faulty.stats();
    recovery[variant] = { ...run, sink: stats };
  }
  results.recovery = summarizeRecovery(recovery);
  await faulty.stop();
  await Promise.all([worker.stop(), workers.plain.stop(), workers.resilient.stop()]);

  log('memory');
  results.memory = await runAlone('memory.mjs', [PLAN.memory.transports, PLAN.memory.extraDestinations]);

  log('doctor');
  results.doctor = await diagnosisTimes(PLAN.doctor);

  results.durationS = (performance.now() - t0) / 1000;
  results.loadAverageEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  process.stdout.write(`\n${renderTable(results)}\n`);

  const docs = smoke ? join(tmpdir(), 'nodemailer-resilient-bench') : fileURLToPath(new URL('../docs/', import.meta.url));
  mkdirSync(docs, { recursive: true });
  writeFileSync(join(docs, 'benchmarks.svg'), renderChart(results));
  writeFileSync(join(docs, 'benchmarks.md'), renderMarkdown(results));
  writeFileSync(join(tmpdir(), `nodemailer-resilient-bench-${smoke ? 'smoke' : 'full'}.json`), JSON.stringify(results, null, 2));
  log(`\nwrote ${join(docs, 'benchmarks.md')} and benchmarks.svg${smoke ? ' (smoke run: docs/ left as it was)' : ''}`);
  log(`took ${results.durationS.toFixed(0)} s`);
}

const interrupt = () => {
  killChildren();
  process.exit(130);
};
process.on('SIGINT', interrupt);
process.on('SIGTERM', interrupt);
main().catch((err) => {
  killChildren();
  console.error(err);
  process.exit(1);
});
