// The figures as rows, printed as a text table and written as docs/benchmarks.md.
import { THROUGHPUT_MODES } from './modes.mjs';
import { fmt, fmtBytes, fmtMs } from './stats.mjs';

const pct = (x, digits = 1) => `${fmt(x * 100, digits)}%`;
const ratioText = (r) => `ratio ${fmt(r.ratio, 3)}, A/A ${fmt(r.aa, 3)}, noise ±${pct(r.noise)}`;
const p50p99 = (d) => `${fmtMs(d.p50)} / ${fmtMs(d.p99)}`;
const errorsText = (errors) =>
  Object.entries(errors)
    .map(([name, n]) => `${n} ${name}`)
    .join(', ');

function throughputVerdict(t) {
  if (t.met) return 'met';
  return t.withinNoise ? 'within noise' : 'NOT MET';
}

function exitText(run) {
  if (!run.exitedBySelf) return 'no (killed after 10 s)';
  return `yes, ${fmtMs(run.exitMs)} after its last line`;
}

const handlesText = (run) => (run.handles.length ? run.handles.join(', ') : 'none');

/** Every figure the bench reports, in order: { group, measure, plain, resilient, compare, target, verdict }. */
export function rows(results) {
  const out = [];
  const group = (name, columns) => (row) => out.push({ group: name, columns, compare: '', target: '', verdict: '', ...row });
  const { plan } = results;

  for (const mode of THROUGHPUT_MODES) {
    const t = results.throughput[mode.key];
    const p = plan[mode.key];
    const add = group(`Throughput, ${mode.title}, ${plan.concurrency} in flight, ${p.rounds} rounds x ${p.batches} batches x ${fmt(p.count)} messages`);
    add({
      measure: `Throughput (messages/s)`,
      plain: fmt(t.plain),
      resilient: fmt(t.resilient),
      compare: ratioText(t),
      target: `ratio >= ${t.target}`,
      verdict: throughputVerdict(t),
    });
    add({
      measure: 'Client CPU per message',
      plain: fmtMs(t.cpu.plain / 1000),
      resilient: fmtMs(t.cpu.resilient / 1000),
      compare: ratioText(t.cpu),
    });
    add({
      measure: 'Reference: nodemailer behind a bare opossum breaker (M)',
      plain: '',
      resilient: '',
      compare: `${fmt(t.floor.perSecond)} messages/s, ratio ${fmt(t.floor.ratio, 3)}; ${fmtMs(t.cpu.floor.perMessage / 1000)} CPU per message, ratio ${fmt(t.cpu.floor.ratio, 3)}: the least a breaker around every send costs`,
    });
  }

  const f = results.failFast;
  const hang = fmtMs(f.greetingTimeout);
  {
    const add = group('Fail-fast: sendMail() to reject when the server is down');
    add({
      measure: 'Time to reject, p50 / p99',
      plain: `${p50p99(f.plainHung)} (never greets)`,
      resilient: `${p50p99(f.open)} (breaker open)`,
      compare: `plain: ${f.plainHung.n} sends to a listener that never greets (greetingTimeout ${hang}); resilient(): ${fmt(f.open.n)} sends, breaker open`,
      target: 'p99 < 1 ms',
      verdict: f.met ? 'met' : 'NOT MET',
    });
    add({
      measure: 'Same listener, resilient() breaker closed',
      plain: fmtMs(f.plainHung.p50),
      resilient: `${fmtMs(f.wrappedWave1.p50)}, then ${fmtMs(f.wrappedWave2.p50)}`,
      compare: f.breakerOpensOnHang
        ? `${f.wrappedWave1.n} sends time out and open the breaker; the next ${f.wrappedWave2.n} fail fast`
        : `${f.wrappedWave1.n} sends time out (${errorsText(f.wrappedWave1.errors)}), and the next ${f.wrappedWave2.n} wait again: a greeting timeout does not open the breaker`,
      verdict: f.breakerOpensOnHang ? '' : 'finding',
    });
    add({
      measure: 'Connection refused, p50 / p99 (for scale)',
      plain: p50p99(f.refused),
      resilient: '',
      compare: 'a refused connection fails fast without a breaker too',
    });
  }

  const tls = results.tls;
  {
    const add = group(`TLS mode: port 465 with secure: false (implicit-TLS listener), greetingTimeout ${fmtMs(plan.tls.greetingTimeout)} for both`);
    const text = (x) =>
      x.delivered === x.n
        ? `delivered in ${fmtMs(x.ms)} (${x.delivered}/${x.n})`
        : `${x.delivered ? `${x.delivered}/${x.n} delivered` : 'not delivered'}, failed after ${fmtMs(x.ms)}`;
    add({
      measure: 'Time to delivery',
      plain: text(tls.plain),
      resilient: text(tls.resilient),
      compare: `plain: ${tls.plain.outcome}; nodemailer's default greetingTimeout would make it 30 s`,
      target: 'resilient() delivers',
      verdict: tls.met ? 'met' : 'NOT MET',
    });
  }

  const ps = results.perSend;
  {
    const add = group(`Per-send construction: ${fmt(plan.perSend.count)} x createTransport(...).sendMail(), never closed, unpooled, ${plan.concurrency} in flight`);
    // Both clients grow a little (compiled code, caches); a leak would grow with the count.
    const extra = ps.resilient.heapGrowth - ps.plain.heapGrowth;
    add({
      measure: 'Heap growth after GC',
      plain: fmtBytes(ps.plain.heapGrowth),
      resilient: fmtBytes(ps.resilient.heapGrowth),
      compare: `${fmt(extra / ps.resilient.count, 1)} B per send more than nodemailer; heap after: ${fmtBytes(ps.plain.heapAfter)} / ${fmtBytes(ps.resilient.heapAfter)}; registry entries after: ${ps.resilient.destinations}`,
      target: 'within 1 MB of nodemailer',
      verdict: extra < 1024 * 1024 ? 'met' : 'NOT MET',
    });
    add({ measure: 'Handles left 200 ms after the last send', plain: handlesText(ps.plain), resilient: handlesText(ps.resilient), target: 'none', verdict: handlesText(ps.resilient) === 'none' ? 'met' : 'NOT MET' });
    add({
      measure: 'Process exits by itself',
      plain: exitText(ps.plain),
      resilient: exitText(ps.resilient),
      compare: `send failures: ${ps.plain.failed} / ${ps.resilient.failed}`,
      target: 'yes',
      verdict: ps.resilient.exitedBySelf ? 'met' : 'NOT MET',
    });
  }

  const rec = results.recovery;
  {
    const add = group(`Recovery: 20% of transactions hit a transient fault, pooled, ${fmt(plan.recovery.count)} messages, ${plan.concurrency} in flight`);
    add({
      measure: 'Delivered',
      plain: `${pct(rec.plain.share)} (${fmt(rec.plain.delivered)})`,
      resilient: `${pct(rec.resilient.share)} (${fmt(rec.resilient.delivered)})`,
      compare:
        `faults injected: ${fmt(rec.plain.sink.faults)} / ${fmt(rec.resilient.sink.faults)}; resilient() undelivered: ${errorsText(rec.resilient.failures) || 'none'}` +
        (rec.resilient.budgetSpent ? ` (${fmt(rec.resilient.budgetSpent)} not retried because the retry budget was spent)` : ''),
    });
    add({
      measure: 'Latency of deliveries, p50 / p90 / p99 / max',
      plain: ['p50', 'p90', 'p99', 'max'].map((k) => fmtMs(rec.plain.latency[k])).join(' / '),
      resilient: ['p50', 'p90', 'p99', 'max'].map((k) => fmtMs(rec.resilient.latency[k])).join(' / '),
    });
    add({
      measure: 'Bodies the sink accepted',
      plain: fmt(rec.plain.accepted),
      resilient: fmt(rec.resilient.accepted),
      compare: rec.resilient.accepted === rec.resilient.delivered ? 'resilient(): one accepted body per delivery, no duplicates' : 'resilient(): accepted bodies differ from deliveries',
    });
  }

  const mem = results.memory;
  {
    const add = group('Memory');
    add({ measure: `Heap per idle transport (${fmt(mem.transports)} held)`, plain: fmtBytes(mem.idle.plain), resilient: fmtBytes(mem.idle.resilient) });
    add({
      measure: `Breaker registry, ${fmt(mem.registry.destinations)} distinct destinations`,
      plain: '',
      resilient: `${fmtBytes(mem.registry.heap)} (${fmtBytes(mem.registry.perDestination)} each)`,
      compare: 'transports dropped unclosed; what remains is the process-wide registry',
    });
    add({
      measure: `Breaker registry after ${fmt(mem.registry.distinctTotal)} distinct destinations`,
      plain: '',
      resilient: `${fmt(mem.registry.destinationsAfter)} entries, ${fmtBytes(mem.registry.heapAfter)}`,
      compare: `bounded at MAX_DESTINATIONS (${fmt(mem.maxDestinations)}): least recently used healthy breaker evicted first`,
      target: `<= ${fmt(mem.maxDestinations)} entries`,
      verdict: mem.registry.destinationsAfter <= mem.maxDestinations ? 'met' : 'NOT MET',
    });
  }

  const doctor = results.doctor;
  if (doctor.available) {
    const add = group(
      `doctor diagnosis time: \`nodemailer-resilient doctor --demo --json\`, one embedded server per classic failure, median of ${doctor.rounds} run${doctor.rounds > 1 ? 's' : ''}`,
      ['Classic failure', 'nodemailer', 'doctor: diagnosis, time', 'Expected'],
    );
    for (const s of doctor.scenarios) {
      const slow = s.slowSteps.map((step) => `${step.id} ${fmtMs(step.ms)}`).join(', ');
      add({
        measure: s.title,
        plain: '',
        resilient: `${s.outcome}, ${fmtMs(s.durationMs)}`,
        compare:
          (slow ? `slowest steps: ${slow}` : '') +
          (/secure: false against an implicit-TLS/.test(s.title) ? "; nodemailer alone waits greetingTimeout (30 s by default), then says 'Greeting never received'" : ''),
        target: s.expected.error ? `${s.expected.error}` : `exit ${s.expected.exitCode}`,
        verdict: s.asExpected ? 'met' : 'NOT MET',
      });
    }
  } else {
    group('doctor diagnosis time')({
      measure: 'doctor diagnosis time',
      plain: '',
      resilient: 'TODO(owner)',
      compare: `not measured: ${doctor.reason}`,
    });
  }
  return out;
}

export function renderTable(results) {
  const header = ['Measure', 'nodemailer', 'resilient()', 'Target', 'Verdict'];
  const all = rows(results);
  const widths = header.map((h, i) => Math.max(h.length, ...all.map((r) => [r.measure, r.plain, r.resilient, r.target, r.verdict][i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const lines = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  let current;
  for (const r of all) {
    if (r.group !== current) {
      current = r.group;
      lines.push('', current);
    }
    lines.push(line([r.measure, r.plain, r.resilient, r.target, r.verdict]));
    if (r.compare) lines.push(`${' '.repeat(2)}${r.compare}`);
  }
  const m = results.machine;
  lines.push('', `${results.smoke ? 'SMOKE run (short; figures are indicative only)' : 'Full run'}: ${results.date}, ${m.cpu}, ${m.cores} cores, Node ${m.node}, nodemailer ${m.nodemailer}, commit ${m.commit}, ${fmt(results.durationS)} s`);
  return lines.join('\n');
}

const escapeCell = (s) => String(s).replaceAll('|', '\\|');

export function renderMarkdown(results) {
  const m = results.machine;
  const { plan } = results;
  const date = results.date.slice(0, 10);
  const all = rows(results);
  const table = [];
  let current;
  for (const r of all) {
    if (r.group !== current) {
      current = r.group;
      const [measure, plain, resilient, target] = r.columns ?? ['Measure', 'nodemailer', 'resilient()', 'Target'];
      table.push('', `### ${current}`, '', `| ${measure} | ${plain} | ${resilient} | ${target} | Verdict | Notes |`, '|---|---|---|---|---|---|');
    }
    table.push(`| ${[r.measure, r.plain || '—', r.resilient || '—', r.target || '—', r.verdict ? `**${r.verdict}**` : '—', r.compare].map(escapeCell).join(' | ')} |`);
  }
  const t = results.throughput;
  const f = results.failFast;
  const findings = [];
  for (const mode of THROUGHPUT_MODES) {
    const x = t[mode.key];
    if (!x.met) {
      findings.push(
        `- ${mode.name}: the throughput ratio ${fmt(x.ratio, 3)} is below the ${x.target} target ${x.withinNoise ? `but within this run's noise floor (±${pct(x.noise)})` : `and outside this run's noise floor (±${pct(x.noise)})`}.`,
      );
    }
    if (!x.met && x.floor.ratio < x.target) {
      findings.push(
        `- ${mode.name}: nodemailer behind a bare opossum breaker (M: one \`fire()\` and one promise per message, nothing else) reaches ${fmt(x.floor.ratio, 3)}, also below the ${x.target} target: on this machine the target is below what the breaker alone costs. resilient() is ${pct(Math.abs(x.floor.ratio - x.ratio))} ${x.ratio <= x.floor.ratio ? 'below' : 'above'} M.`,
      );
    }
    if (x.cpu.ratio - 1 > Math.max(x.cpu.noise, 0.02)) {
      findings.push(
        `- ${mode.name}: resilient() uses ${pct(x.cpu.ratio - 1)} more client CPU per message (${fmtMs(x.cpu.resilient / 1000)} against ${fmtMs(x.cpu.plain / 1000)}), outside the CPU noise floor (±${pct(x.cpu.noise)}); with the client's core saturated, that is the throughput lost.`,
      );
    }
  }
  if (!f.breakerOpensOnHang) {
    findings.push(
      `- A server that accepts the connection and never greets does not open the breaker: with \`secure: false\` a greeting timeout is classified as a \`TlsError\` ("plaintext on an implicit-TLS port"), which does not count against the destination, so every send waits the full greetingTimeout (${fmtMs(f.greetingTimeout)} here).`,
    );
  }
  if (results.memory.registry.perDestination > 1024) {
    findings.push(
      `- Each remembered destination costs ${fmtBytes(results.memory.registry.perDestination)} of heap (most of it the opossum breaker), so a full registry of ${fmt(results.memory.maxDestinations)} is ${fmtBytes(results.memory.registry.heap)}.`,
    );
  }
  const rec = results.recovery.resilient;
  if (rec.share < 1) {
    findings.push(
      `- Under 20% transient faults resilient() delivered ${pct(rec.share)} (${errorsText(rec.failures)})` +
        (rec.budgetSpent
          ? `; ${fmt(rec.budgetSpent)} of the ${fmt(rec.count - rec.delivered)} failures were not retried because the destination's retry budget was spent (defaults: 100 tokens, 5 a retry, 1 back per success, so a sustained fault rate near 20% drains it).`
          : `; with retries: 2 a message fails when all three attempts hit a fault (0.2^3 = 0.8% expected).`),
    );
  }

  return `# Benchmarks

<!-- Generated by \`npm run bench\` (bench/run.mjs). Do not edit by hand: run it again. -->

Measured on **${date}** on ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}, Node ${m.node},
nodemailer ${m.nodemailer}, nodemailer-resilient ${m.package} (commit ${m.commit}); load average ${m.loadAverage.join(', ')} at the start and ${results.loadAverageEnd.join(', ')} at the end
(the machine is shared: other work running at the same time is part of the noise floor).
${results.smoke ? '\n> **Smoke run**: a few hundred messages per row, for CI. These figures are indicative only.\n' : ''}
The question: is wrapping every send in \`resilient()\` free when the server works, and fast when it does not?
Every figure below comes from one run of \`npm run bench\` (${fmt(results.durationS)} s).

![Throughput, time to fail and recovery latency](benchmarks.svg)

## Figures
${table.join('\n')}
${findings.length ? `\n## Findings\n\n${findings.join('\n')}\n` : ''}
## How it was measured

**Processes.** Each SMTP server the bench talks to runs in its own process (\`bench/sink.mjs\`), so
the client being measured has its core to itself and what differs between rows is the client.
The clients run in worker processes (\`bench/worker.mjs\`, \`--expose-gc\`) that import the built package
from \`dist/\`, so what is measured is what ships. Per-send construction and memory run
in child processes of their own with no IPC channel, so that whether they exit by themselves says
something. Everything listens on 127.0.0.1.

**The sink.** [smtp-server](https://nodemailer.com/extras/smtp-server/) ${m.smtpServer}, accepting every message and
discarding the body; STARTTLS, AUTH and reverse DNS off. smtp-server holds each new connection for a fixed
100 ms before greeting (to catch early talkers); the sink removes that pause, which would otherwise cap an
unpooled client at 200 messages/s and hide the client's own cost.

**The clients.** Both get the same SMTP options: \`{ host: '127.0.0.1', port, secure: false, ignoreTLS: true,
name: 'bench.example.com' }\`, plus \`pool: true, maxConnections: 5\` in pooled rows. resilient() adds
\`retry: { retries: 2, minTimeout: 5 }, breaker: { volumeThreshold: 5, resetTimeout: 30000 }\`. The message
is a short text message with one recipient; the HTML row sends a password-reset e-mail (\`TRANSACTIONAL_MESSAGE\` in \`bench/lib/mail.mjs\`). ${plan.concurrency} sends are kept in flight.

**Throughput and CPU.** Each round is a fresh worker process holding four clients: plain nodemailer (A),
plain nodemailer again (A2), resilient() (B), and for reference M: nodemailer's own transport behind a bare
opossum breaker with the options resilient() gives it, one \`fire()\` and one promise per message and nothing
else (\`breakerOnly\` in \`bench/lib/mail.mjs\`). M is the floor under any transport that puts this breaker around
every send; the gap between B and M is what resilient()'s own work costs. Each client first sends ${fmt(plan.pooled.compile)} messages
(${fmt(plan.unpooled.compile)} unpooled, ${fmt(plan.transactional.compile)} HTML) untimed: V8 takes thousands of sends to finish
compiling either client, and a server runs in the steady state. Then the three take turns in short timed batches
(${fmt(plan.pooled.count)} messages pooled, ${fmt(plan.unpooled.count)} unpooled, ${fmt(plan.transactional.count)} HTML) in an order that rotates
from batch to batch (a Latin square: each client takes each place equally often), ${plan.pooled.batches} batches each. Taking turns inside one process is what makes a 2% difference
measurable on a shared 2-core machine: a slow spell of the host (other tenants, CPU frequency) lands on all
four alike, and so does whatever makes one process run a few percent faster than another for its whole life
(JIT decisions, heap layout), which separate processes per client would carry into the ratio. Fresh processes
per round sample that lottery, and no forced GC runs between batches (V8 sweeps after one on background threads,
and that CPU would land in the next batch). CPU is the process's user + system time over a batch. A round's figure
for a client is the median of its batches; the ratio is the median over rounds of B / mean(A, A2); A/A is the
median of A2 / A, and the noise floor is the median of |A2 / A - 1|. Target: ratio >= 0.98 pooled, >= 0.95
unpooled. The HTML row asks whether the cost stays per message while nodemailer's own cost grows with the message.

**Fail-fast.** resilient()'s breaker is opened by sends to a port where nothing listens (refused connections
count against the destination), then ${fmt(plan.failFast.count)} sends are timed one after another
(after ${fmt(plan.failFast.warmup)} untimed): each rejects with \`CircuitOpenError\`. Beside it, plain nodemailer sends to a listener
that accepts the TCP connection and never writes a byte (greetingTimeout ${f.greetingTimeout === 30_000 ? "left at nodemailer's default, 30 s" : fmtMs(f.greetingTimeout)}).
The same listener is then given to resilient() with its breaker closed: ${f.wrappedWave1.n} concurrent sends, then ${f.wrappedWave2.n} more, to show whether
the first wave opens the breaker.

**TLS mode.** An implicit-TLS sink (TLS from the first byte, as on port 465) runs on an ephemeral port,
because binding 465 needs privileges. Both clients are configured with \`port: 465, secure: false\`
(the classic mistake) and reach the sink through nodemailer's own \`getSocket\` option, which hands
nodemailer a connected socket whatever the port says; both get the same hook, options and
\`greetingTimeout: ${plan.tls.greetingTimeout}\` (nodemailer's default is 30 s). resilient() reads port 465 as implicit TLS and starts TLS;
plain nodemailer speaks plaintext and waits for a greeting. ${plan.tls.rounds} rounds, alternating.

**Per-send construction.** \`createTransport(resilient(sameOptions)).sendMail(message)\` for each of
${fmt(plan.perSend.count)} messages (unpooled options, never closed), ${plan.concurrency} in flight, after ${fmt(200)} untimed.
Heap is \`heapUsed\` after three forced GCs, before and after; handles are \`process.getActiveResourcesInfo()\`
200 ms after the last send (pipes and TTYs, the child's stdio, left out); then the child must exit without being told to.
A pooled transport per send would keep its pool's connections open: don't.

**Recovery.** The sink fails 20% of transactions (a seeded random choice) with a fault a retry can fix:
421 at MAIL FROM (the connection closes), 451 at RCPT TO, a dropped connection at RCPT TO, or 451 after
the body. No fault is a lost reply after the final dot, so every failure is a certain non-delivery.
${fmt(plan.recovery.count)} messages per client, pooled, ${plan.concurrency} in flight. Latency is from \`sendMail()\` to its promise
resolving, for delivered messages. "Bodies the sink accepted" checks that no message was accepted twice.

**Memory.** In a fresh process: the heap growth (after GC) of holding ${fmt(results.memory.transports)} idle transports,
per transport. Then ${fmt(results.memory.maxDestinations)} transports for distinct destinations (one port each), dropped without close(),
so that what the heap keeps is resilient()'s process-wide registry (one breaker and retry budget per host,
port and user); then ${fmt(results.memory.registry.distinctTotal - results.memory.maxDestinations)} more distinct destinations. The registry is bounded: at
\`MAX_DESTINATIONS\` (${fmt(results.memory.maxDestinations)}) the least recently used destination whose breaker is closed is forgotten
(its breaker shut down), or the least recently used of all if every breaker is open; a destination is also
forgotten when the last transport using it is closed and its breaker is closed.

${
  results.doctor.available
    ? `**doctor diagnosis time.** \`node dist/cli.js doctor --demo --json\`, ${results.doctor.rounds} time${results.doctor.rounds > 1 ? 's' : ''}: the doctor starts one
embedded smtp-server per classic failure (in the doctor's process, with smtp-server's 100 ms pause before each greeting,
which shows in the TLS mode and EHLO steps) and diagnoses each; the figure is the doctor's own \`durationMs\` for the
whole diagnosis, median over runs, and the verdict is whether it named the expected error. The greylisting
scenario includes the doctor's 1 s wait before its retry; with \`secure: false\` the doctor waits 1.5 s for a
plaintext greeting before trying TLS. Whole CLI run: ${fmtMs(results.doctor.wallMs)}.

`
    : ''
}## Reproduce

\`\`\`sh
npm ci
npm run bench            # full run, writes docs/benchmarks.md and docs/benchmarks.svg
npm run bench -- --smoke # a short run for CI (BENCH_SMOKE=1 works too); writes under the OS temp directory
node bench/profile.mjs   # after a build: where resilient()'s extra client CPU per message goes (--cpu-prof)
\`\`\`

No timing is asserted in the test suite: this command is where timings live.
`;
}
