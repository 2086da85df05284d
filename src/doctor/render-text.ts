import type { MailError } from '../errors/mail-error.js';
import { configRows } from './config-view.js';
import type { DoctorInput } from './input.js';
import type { Fix, Report, Step, StepStatus } from './report.js';
import type { Style } from './style.js';

const MARKS: Record<StepStatus, string> = { pass: '✓', warn: '!', fail: '✗', skip: '-' };

const pad = (text: string, width: number): string => text + ' '.repeat(Math.max(width - text.length, 1));

function mark(status: StepStatus, style: Style): string {
  const symbol = MARKS[status];
  return status === 'pass' ? style.pass(symbol) : status === 'fail' ? style.fail(symbol) : status === 'warn' ? style.warn(symbol) : style.dim(symbol);
}

export function fixLine(fix: Fix): string {
  // A fix that is itself a comment (nothing to set) reads as one sentence.
  return fix.line.startsWith('#') ? `${fix.line}: ${fix.why}` : `${fix.line}   # ${fix.why}`;
}

function errorLines(err: MailError, style: Style): Array<[string, string]> {
  const code = [err.code, err.responseCode].filter((v) => v !== undefined).join(' ');
  const lines: Array<[string, string]> = [['error', `${style.bold(err.name)} (${code}): ${err.message.split('\n')[0]}`]];
  if (err.response) lines.push(['reply', err.response.split('\n').join(' | ')]);
  lines.push(['retryable', err.retryable ? 'yes: resilient() retries it' : 'no: resilient() fails at once, a retry would not help']);
  lines.push(['hint', err.hint]);
  return lines;
}

function stepLines(step: Step, style: Style): string[] {
  const duration = step.status === 'skip' ? '' : `${step.durationMs} ms`;
  const summary = step.status === 'skip' ? style.dim(step.summary) : step.summary;
  const out = [`  ${mark(step.status, style)} ${pad(step.title, 13)}${pad(duration, 8)}${summary}`];
  const extra: Array<[string, string]> = [...step.details];
  if (step.error) extra.push(...errorLines(step.error, style));
  for (const fix of step.fixes) extra.push(['fix', style.bold(fixLine(fix))]);
  for (const [label, value] of extra) out.push(`      ${style.dim(pad(label, 11))}${value}`);
  return out;
}

/** The whole report for a terminal or a log: configuration, one line per step, the verdict. */
export function renderText(report: Report, input: DoctorInput, style: Style, version: string): string {
  const out: string[] = [style.bold(`nodemailer-resilient doctor ${version}`), '', style.bold('Configuration') + style.dim(' (what resilient() uses; secrets masked)')];
  const rows = configRows(input);
  const width = Math.min(Math.max(...rows.filter((r) => r.source).map((r) => r.value.length), 0) + 3, 48);
  for (const row of rows) out.push(`  ${pad(row.key, 11)}${row.source ? `${pad(row.value, width)}${style.dim(`<- ${row.source}`)}` : row.value}`);
  out.push('', style.bold('Checks'));
  let assumed = '';
  for (const step of report.steps) {
    const now = step.assumed?.join(', ') ?? '';
    if (now && now !== assumed) out.push(style.dim(`    (from here on, checked as if ${now} were set)`));
    assumed = now;
    out.push(...stepLines(step, style));
  }
  out.push('', ...verdictLines(report, style));
  return `${out.join('\n')}\n`;
}

export function verdictLines(report: Report, style: Style): string[] {
  const warnings = report.steps.filter((s) => s.status === 'warn').length;
  const took = `(${(report.totalMs / 1000).toFixed(1)} s)`;
  if (!report.failure) {
    return [style.pass(`Result: sending would work${warnings ? `, with ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}.`) + ` ${style.dim(took)} Exit code 0.`];
  }
  const failure = report.failure;
  const cause = failure.error ? `${failure.error.name} at ${failure.title}` : failure.title;
  const lines = [style.fail(`Result: sending would fail: ${cause}.`) + ` ${style.dim(took)} Exit code ${report.exitCode}.`];
  const fixes = report.steps.flatMap((s) => s.fixes);
  if (fixes.length) {
    lines.push('Change:');
    for (const fix of fixes) lines.push(`  ${style.bold(fixLine(fix))}`);
    const assumed = report.steps.some((s) => s.assumed);
    if (assumed && report.steps.filter((s) => s.status === 'fail').length === 1) lines.push('With that change, every other check passed.');
  } else if (failure.error) {
    lines.push(`What to do: ${failure.error.hint}`);
  }
  return lines;
}

/** A shorter form for --demo: what normalisation changed, passing steps on one line, the others in full. */
export function renderCompact(report: Report, input: DoctorInput, style: Style): string {
  const out: string[] = [];
  const destination = input.config.destinations[0]!;
  for (const note of destination.notes) out.push(`  ${style.dim('changed')}  ${note}`);
  const passed = report.steps.filter((s) => s.status === 'pass');
  const assumed = passed.find((s) => s.assumed)?.assumed;
  if (passed.length) {
    const list = passed.map((s) => `${s.title} ${style.dim(`${s.durationMs} ms`)}`).join(', ');
    out.push(`  ${mark('pass', style)} ${list}${assumed ? style.dim(` (assuming ${assumed.join(', ')})`) : ''}`);
  }
  for (const step of report.steps) if (step.status === 'fail' || step.status === 'warn') out.push(...stepLines(step, style));
  out.push(...verdictLines(report, style).map((line) => `  ${line}`));
  return `${out.join('\n')}\n`;
}
