// docs/benchmarks.svg, drawn by hand: three panels, no chart library.
import { THROUGHPUT_MODES } from './modes.mjs';
import { fmt, fmtMs, median } from './stats.mjs';

const WIDTH = 960;
const COLORS = { plain: '#8a8f98', plain2: '#c3c7cd', resilient: '#2563eb', breakerOnly: '#d97706', text: '#1f2328', grid: '#e5e7eb', axis: '#6b7280' };
const FONT = 'font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

const esc = (s) => String(s).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const text = (x, y, s, { size = 12, anchor = 'start', color = COLORS.text, weight = 'normal' } = {}) =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${size}" text-anchor="${anchor}" fill="${color}" font-weight="${weight}">${esc(s)}</text>`;
const rect = (x, y, w, h, color) => `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0, w).toFixed(1)}" height="${Math.max(0, h).toFixed(1)}" fill="${color}"/>`;
const line = (x1, y1, x2, y2, color, width = 1, dash = '') =>
  `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${color}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;

/** Axis labels for powers of ten of milliseconds: 1 µs ... 100 s. */
function decadeLabel(ms) {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${Math.round(ms / 1000)} s`;
}

function niceMax(value) {
  const step = 10 ** Math.floor(Math.log10(value));
  // Multiples whose quarters (the grid lines) are round numbers.
  for (const m of [1, 2, 4, 6, 8, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

function logScale(min, max, x0, width) {
  const a = Math.log10(min);
  const b = Math.log10(max);
  return (v) => x0 + ((Math.log10(Math.min(max, Math.max(min, v))) - a) / (b - a)) * width;
}

/** One bar chart: for each throughput row, the median of A, A2, B and M, and each round as a dot. */
function roundsChart(results, { x0, width, top, plotH, title, value, format, note }) {
  const out = [];
  const left = x0 + 56;
  const plotW = width - 56;
  const plotTop = top + 28;
  const modes = THROUGHPUT_MODES;
  const all = modes.flatMap((m) => results.throughput[m.key].rounds.flatMap((r) => SERIES.map(([key]) => value(r[key]))));
  const max = niceMax(Math.max(...all) * 1.1);
  const y = (v) => plotTop + plotH - (v / max) * plotH;
  out.push(text(x0, top + 12, title, { size: 12, weight: 'bold' }));
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    out.push(line(left, y(v), left + plotW, y(v), COLORS.grid));
    out.push(text(left - 6, y(v) + 4, format(v), { anchor: 'end', size: 10, color: COLORS.axis }));
  }
  const groupW = plotW / modes.length;
  const barW = Math.min(34, groupW / SERIES.length - 8);
  modes.forEach((mode, g) => {
    const t = results.throughput[mode.key];
    const cx = left + groupW * g + groupW / 2;
    SERIES.forEach(([key, , color], i) => {
      const x = cx + (i - (SERIES.length - 1) / 2) * (barW + 6) - barW / 2;
      const values = t.rounds.map((r) => value(r[key]));
      const med = median(values);
      out.push(rect(x, y(med), barW, plotTop + plotH - y(med), color));
      out.push(text(x + barW / 2, y(Math.max(med, ...values)) - 7, format(med), { anchor: 'middle', size: 10, weight: 'bold' }));
      values.forEach((v, k) => {
        const jitter = ((k % 5) - 2) * 4;
        out.push(`<circle cx="${(x + barW / 2 + jitter).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.2" fill="#111827" fill-opacity="0.55"/>`);
      });
    });
    out.push(text(cx, plotTop + plotH + 16, mode.label, { anchor: 'middle', size: 11, weight: 'bold' }));
    note(t).forEach((line, k) => out.push(text(cx, plotTop + plotH + 31 + 13 * k, line, { anchor: 'middle', size: 10, color: COLORS.axis })));
  });
  return out.join('\n');
}

const SERIES = [
  ['A', 'nodemailer (A)', COLORS.plain],
  ['A2', 'nodemailer again (A2, noise)', COLORS.plain2],
  ['B', 'resilient() (B)', COLORS.resilient],
  ['M', 'bare opossum breaker (M, reference)', COLORS.breakerOnly],
];

/** Panel 1: throughput and client CPU per message, rounds and medians. */
function throughputPanel(results, top) {
  const out = [];
  const plotH = 150;
  const height = 60 + 28 + plotH + 53;
  out.push(text(20, top + 20, 'When the server works: throughput and client CPU, 20 messages in flight', { size: 14, weight: 'bold' }));
  let lx = 20;
  for (const [, label, color] of SERIES) {
    out.push(rect(lx, top + 31, 10, 10, color), text(lx + 14, top + 40, label, { size: 11 }));
    lx += label.length * 6.2 + 40;
  }
  out.push(text(lx, top + 40, 'bars: medians; dots: rounds', { size: 11, color: COLORS.axis }));
  const half = (WIDTH - 40) / 2;
  const ratios = (r) => [`B/A ${fmt(r.ratio, 3)}, M/A ${fmt(r.floor.ratio, 3)}`, `A/A ${fmt(r.aa, 3)}`];
  const charts = [
    { title: 'messages/s (higher is better)', value: (run) => run.perSecond, note: ratios },
    { title: 'client CPU per message, µs (lower is better)', value: (run) => run.cpuUsPerMessage, note: (t) => ratios(t.cpu) },
  ];
  charts.forEach((chart, i) => {
    out.push(roundsChart(results, { ...chart, x0: 20 + i * (half + 20), width: half - 20, top: top + 52, plotH, format: (v) => fmt(v) }));
  });
  return { svg: out.join('\n'), height };
}

/** Panel 2: time for sendMail() to fail, log scale. */
function failPanel(results, top) {
  const f = results.failFast;
  const out = [];
  const left = 370;
  const plotW = WIDTH - left - 90;
  const barH = 20;
  const bars = [
    [`nodemailer, server never greets (p99)`, f.plainHung.p99, COLORS.plain],
    [`resilient(), server never greets, breaker closed (p99)`, f.wrappedWave2.p99, f.breakerOpensOnHang ? COLORS.resilient : '#93b4f5'],
    [`nodemailer, connection refused (p99)`, f.refused.p99, COLORS.plain],
    [`resilient(), breaker open (p99)`, f.open.p99, COLORS.resilient],
    [`resilient(), breaker open (p50)`, f.open.p50, COLORS.resilient],
  ];
  const height = 40 + bars.length * (barH + 12) + 30;
  out.push(text(20, top + 20, 'Time for sendMail() to reject when the server is down (log scale, lower is better)', { size: 14, weight: 'bold' }));
  const min = 0.001;
  const max = 100_000;
  const x = logScale(min, max, left, plotW);
  const plotTop = top + 40;
  const plotBottom = plotTop + bars.length * (barH + 12);
  for (let e = -3; e <= 5; e++) {
    const v = 10 ** e;
    out.push(line(x(v), plotTop - 4, x(v), plotBottom, COLORS.grid));
    out.push(text(x(v), plotBottom + 16, decadeLabel(v), { anchor: 'middle', size: 10, color: COLORS.axis }));
  }
  out.push(line(x(1), plotTop - 8, x(1), plotBottom, '#dc2626', 1, '4 3'), text(x(1) + 4, plotTop - 10, 'target: 1 ms', { size: 10, color: '#dc2626' }));
  bars.forEach(([label, value, color], i) => {
    const by = plotTop + i * (barH + 12);
    out.push(text(left - 10, by + 14, label, { anchor: 'end', size: 12 }));
    out.push(rect(left, by, x(value) - left, barH, color));
    out.push(text(x(value) + 6, by + 14, fmtMs(value), { size: 11 }));
  });
  return { svg: out.join('\n'), height };
}

/** Panel 3: share of messages delivered within a given latency, under 20% faults. */
function recoveryPanel(results, top) {
  const rec = results.recovery;
  const out = [];
  const height = 270;
  const left = 70;
  const plotW = WIDTH - left - 200;
  const plotTop = top + 40;
  const plotH = height - 90;
  out.push(text(20, top + 20, 'Recovery under 20% transient faults: share of messages delivered within a latency', { size: 14, weight: 'bold' }));
  const all = [...rec.plain.latencies, ...rec.resilient.latencies];
  const min = Math.max(0.1, 10 ** Math.floor(Math.log10(Math.min(...all))));
  const max = 10 ** Math.ceil(Math.log10(Math.max(...all)));
  const x = logScale(min, max, left, plotW);
  const y = (share) => plotTop + plotH - share * plotH;
  for (let i = 0; i <= 4; i++) {
    out.push(line(left, y(i / 4), left + plotW, y(i / 4), COLORS.grid));
    out.push(text(left - 8, y(i / 4) + 4, `${i * 25}%`, { anchor: 'end', size: 11, color: COLORS.axis }));
  }
  for (let e = Math.log10(min); e <= Math.log10(max) + 1e-9; e++) {
    out.push(line(x(10 ** e), plotTop, x(10 ** e), plotTop + plotH, COLORS.grid));
    out.push(text(x(10 ** e), plotTop + plotH + 16, decadeLabel(10 ** e), { anchor: 'middle', size: 10, color: COLORS.axis }));
  }
  // End labels, kept at least 16 px apart.
  const labelY = {};
  const endY = (variant) => y(rec[variant].delivered / rec[variant].count);
  labelY.resilient = endY('resilient');
  labelY.plain = endY('plain');
  if (Math.abs(labelY.plain - labelY.resilient) < 16) {
    const mid = (labelY.plain + labelY.resilient) / 2;
    const resilientAbove = labelY.resilient <= labelY.plain;
    labelY.resilient = mid + (resilientAbove ? -8 : 8);
    labelY.plain = mid + (resilientAbove ? 8 : -8);
  }
  for (const [variant, color, label] of [
    ['plain', COLORS.plain, 'nodemailer'],
    ['resilient', COLORS.resilient, 'resilient()'],
  ]) {
    const r = rec[variant];
    const step = Math.max(1, Math.floor(r.latencies.length / 400));
    const points = [`${x(min).toFixed(1)},${y(0).toFixed(1)}`];
    for (let i = 0; i < r.latencies.length; i += step) points.push(`${x(r.latencies[i]).toFixed(1)},${y((i + 1) / r.count).toFixed(1)}`);
    if (r.latencies.length) points.push(`${x(r.latencies.at(-1)).toFixed(1)},${y(r.delivered / r.count).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${points.join(' ')}"/>`);
    out.push(text(left + plotW + 10, labelY[variant] + 4, `${label}: ${fmt((r.delivered / r.count) * 100, 1)}% delivered`, { size: 12, color }));
  }
  out.push(text(left + plotW / 2, plotTop + plotH + 34, 'time from sendMail() to delivery (log scale)', { anchor: 'middle', size: 11, color: COLORS.axis }));
  return { svg: out.join('\n'), height };
}

export function renderChart(results) {
  const panels = [];
  let top = 10;
  for (const panel of [throughputPanel, failPanel, recoveryPanel]) {
    const { svg, height } = panel(results, top);
    panels.push(svg);
    top += height + 20;
  }
  const m = results.machine;
  panels.push(
    text(20, top + 6, `npm run bench${results.smoke ? ' --smoke (indicative only)' : ''}, ${results.date.slice(0, 10)}, ${m.cpu}, ${m.cores} cores, Node ${m.node}, nodemailer ${m.nodemailer}`, {
      size: 11,
      color: COLORS.axis,
    }),
  );
  const height = top + 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT}>
<rect width="100%" height="100%" fill="#ffffff"/>
${panels.join('\n')}
</svg>
`;
}
