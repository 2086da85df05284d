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
  return `${fix.line}   # ${fix.why}`;
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
  if (step.assumed?.length) extra.unshift(['assuming', step.assumed.join(', ')]);
  if (step.error) extra.push(...errorLines(step.error, style));
  for (const fix of step.fixes) extra.push(['fix', style.bold(fixLine(fix))]);
  for (const [label, value] of extra) out.push(`      ${style.dim(pad(label, 11))}${value}`);
  return out;
}

/** The whole report for a terminal or a log: configuration, one line per step, the verdict. */
export function renderText(report: Report, input: DoctorInput, style: Style, version: string): string {
  const out: string[] = [style.bold(`nodemailer-resilient doctor ${version}`), '', style.bold('Configuration') + style.dim(' (what resilient() uses; secrets masked)')];
  for (const row of configRows(input)) out.push(`  ${pad(row.key, 11)}${row.value}${row.source ? style.dim(`   <- ${row.source}`) : ''}`);
  out.push('', style.bold('Checks'));
  for (const step of report.steps) out.push(...stepLines(step, style));
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
  } else if (failure.error) {
    lines.push(`What to do: ${failure.error.hint}`);
  }
  return lines;
}

/** A shorter form for --demo: passing steps on one line, the others in full. */
export function renderCompact(report: Report, style: Style): string {
  const out: string[] = [];
  const passed = report.steps.filter((s) => s.status === 'pass');
  if (passed.length) out.push(`  ${mark('pass', style)} ${passed.map((s) => `${s.title} ${style.dim(`${s.durationMs} ms`)}`).join(', ')}`);
  for (const step of report.steps) if (step.status === 'fail' || step.status === 'warn') out.push(...stepLines(step, style));
  out.push(...verdictLines(report, style).map((line) => `  ${line}`));
  return `${out.join('\n')}\n`;
}
