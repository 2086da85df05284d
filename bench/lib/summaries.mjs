// Raw measurements in, the figures the report prints out.
import { median, percentile } from './stats.mjs';

const countBy = (items, key) => items.reduce((acc, item) => ((acc[key(item)] = (acc[key(item)] ?? 0) + 1), acc), {});

/**
 * Throughput rounds of A (plain), A2 (plain again), B (resilient()) and M (breaker-only reference).
 * B is compared, round by round, with the mean of A and A2; A2/A is the
 * noise floor: what two identical clients differ by in the same round.
 */
export function summarizeThroughput(rounds, target) {
  const perRound = rounds.map(({ A, A2, B, M }) => {
    const plain = (key) => (A[key] + A2[key]) / 2;
    return {
      ratio: B.perSecond / plain('perSecond'),
      aa: A2.perSecond / A.perSecond,
      floorRatio: M.perSecond / plain('perSecond'),
      cpuRatio: B.cpuUsPerMessage / plain('cpuUsPerMessage'),
      cpuAa: A2.cpuUsPerMessage / A.cpuUsPerMessage,
      cpuFloorRatio: M.cpuUsPerMessage / plain('cpuUsPerMessage'),
    };
  });
  const ratio = median(perRound.map((r) => r.ratio));
  const noise = median(perRound.map((r) => Math.abs(r.aa - 1)));
  const met = ratio >= target;
  const withinNoise = !met && 1 - ratio <= noise;
  return {
    rounds,
    perRound,
    target,
    plain: median(rounds.flatMap((r) => [r.A.perSecond, r.A2.perSecond])),
    resilient: median(rounds.map((r) => r.B.perSecond)),
    ratio,
    aa: median(perRound.map((r) => r.aa)),
    noise,
    met,
    withinNoise,
    // The breaker-only reference (M): nodemailer behind a bare opossum breaker.
    floor: { perSecond: median(rounds.map((r) => r.M.perSecond)), ratio: median(perRound.map((r) => r.floorRatio)) },
    cpu: {
      plain: median(rounds.flatMap((r) => [r.A.cpuUsPerMessage, r.A2.cpuUsPerMessage])),
      resilient: median(rounds.map((r) => r.B.cpuUsPerMessage)),
      ratio: median(perRound.map((r) => r.cpuRatio)),
      aa: median(perRound.map((r) => r.cpuAa)),
      noise: median(perRound.map((r) => Math.abs(r.cpuAa - 1))),
      floor: { perMessage: median(rounds.map((r) => r.M.cpuUsPerMessage)), ratio: median(perRound.map((r) => r.cpuFloorRatio)) },
    },
  };
}

const distribution = (values) => ({
  n: values.length,
  p50: percentile(values, 50),
  p90: percentile(values, 90),
  p99: percentile(values, 99),
  max: values.length ? Math.max(...values) : NaN,
});

export function summarizeFailFast(raw) {
  const ms = (list) => list.map((x) => x.ms);
  const errors = (list) => countBy(list, (x) => x.error);
  return {
    greetingTimeout: raw.greetingTimeout,
    opened: raw.opened,
    open: { ...distribution(ms(raw.open)), errors: errors(raw.open) },
    refused: { ...distribution(ms(raw.refused)), errors: errors(raw.refused) },
    plainHung: { ...distribution(ms(raw.plainHung)), errors: errors(raw.plainHung) },
    wrappedWave1: { ...distribution(ms(raw.wrappedWave1)), errors: errors(raw.wrappedWave1) },
    wrappedWave2: { ...distribution(ms(raw.wrappedWave2)), errors: errors(raw.wrappedWave2) },
    breakerOpensOnHang: raw.wrappedWave2.every((x) => x.error === 'CircuitOpenError'),
    target: 1,
    met: raw.opened && percentile(ms(raw.open), 99) < 1 && raw.open.every((x) => x.error === 'CircuitOpenError'),
  };
}

export function summarizeTls(results) {
  const one = (list) => ({
    n: list.length,
    delivered: list.filter((x) => x.delivered).length,
    ms: median(list.map((x) => x.ms)),
    outcome: list.find((x) => !x.delivered)?.outcome ?? list[0]?.outcome,
  });
  const plain = one(results.plain);
  const resilient = one(results.resilient);
  return { plain, resilient, met: resilient.delivered === resilient.n };
}

export function summarizeRecovery(runs) {
  const out = {};
  for (const [variant, run] of Object.entries(runs)) {
    out[variant] = {
      count: run.count,
      delivered: run.delivered,
      share: run.delivered / run.count,
      failures: run.failures,
      budgetSpent: run.budgetSpent,
      latency: distribution(run.latencies),
      latencies: [...run.latencies].sort((a, b) => a - b),
      wallMs: run.wallMs,
      sink: run.sink,
      // More bodies accepted than sends resolved would mean a duplicate (or a
      // send reported failed that went through).
      accepted: run.sink.accepted,
    };
  }
  return out;
}
