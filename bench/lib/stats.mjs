// Small statistics: medians and percentiles over plain arrays of numbers.

export function percentile(values, p) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank: p99 of 1,000 values is the 990th smallest.
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function median(values) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const round = (value, digits = 0) => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/** `1234567` -> `1,234,567`; `0.1234` with digits 3 -> `0.123`. */
export function fmt(value, digits = 0) {
  if (value === undefined || value === null || Number.isNaN(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Milliseconds in the unit that reads best: µs below 1 ms, s from 10 s. */
export function fmtMs(ms) {
  if (ms === undefined || Number.isNaN(ms)) return 'n/a';
  if (ms < 1) return `${fmt(ms * 1000, 0)} µs`;
  if (ms < 10) return `${fmt(ms, 2)} ms`;
  if (ms < 10_000) return `${fmt(ms, 0)} ms`;
  return `${fmt(ms / 1000, 1)} s`;
}

export function fmtBytes(bytes) {
  if (Number.isNaN(bytes)) return 'n/a';
  const sign = bytes < 0 ? '-' : '';
  const b = Math.abs(bytes);
  if (b < 1024) return `${sign}${fmt(b)} B`;
  if (b < 1024 * 1024) return `${sign}${fmt(b / 1024, 1)} KB`;
  return `${sign}${fmt(b / 1024 / 1024, 2)} MB`;
}
