import type { Redactor } from './redact.js';

type LogMethod = (...args: unknown[]) => unknown;

/**
 * A logger as nodemailer takes it (bunyan-style `info(fields, message)`),
 * which is also how pino works; winston's `info(message, fields)` is
 * recognised too.
 */
export interface Logger {
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  debug?: LogMethod;
  trace?: LogMethod;
  fatal?: LogMethod;
}

const member = (logger: Logger, name: string): unknown => (logger as unknown as Record<string, unknown>)[name];

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What the library writes: a message and structured fields, with secrets already masked. */
export type Log = (level: LogLevel, fields: Record<string, unknown>, message: string) => void;

function isWinston(logger: Logger): boolean {
  return Array.isArray(member(logger, 'transports')) || (typeof member(logger, 'add') === 'function' && typeof member(logger, 'configure') === 'function');
}

function redactFields(fields: Record<string, unknown>, redact: Redactor): Record<string, unknown> {
  const out: Record<string, unknown> = { component: 'nodemailer-resilient' };
  for (const [key, value] of Object.entries(fields)) {
    out[key] = typeof value === 'string' ? redact(value) : value;
  }
  return out;
}

export function createLog(logger: Logger | boolean | undefined, redact: Redactor): Log {
  if (!logger) return () => undefined;
  if (logger === true) {
    return (level, fields, message) => {
      const line = `[${new Date().toISOString()}] ${level.toUpperCase()} [nodemailer-resilient] ${redact(message)}`;
      (level === 'error' || level === 'warn' ? console.error : console.log)(line, redactFields(fields, redact));
    };
  }
  const winston = isWinston(logger);
  return (level, fields, message) => {
    const method = (member(logger, level) ?? logger.info) as LogMethod | undefined;
    if (typeof method !== 'function') return;
    const safe = redactFields(fields, redact);
    if (winston) method.call(logger, redact(message), safe);
    else method.call(logger, safe, redact(message));
  };
}

/**
 * Wraps the logger handed to nodemailer itself so that its debug
 * transcript goes through the same redaction as our own records.
 */
export function redactingLogger(logger: Logger, redact: Redactor): Logger {
  const wrap = (method: LogMethod) =>
    (...args: unknown[]) =>
      method.apply(
        logger,
        args.map((arg) => {
          if (typeof arg === 'string') return redact(arg);
          if (arg && typeof arg === 'object' && !(arg instanceof Error)) {
            return Object.fromEntries(Object.entries(arg).map(([k, v]) => [k, typeof v === 'string' ? redact(v) : v]));
          }
          return arg;
        }),
      );
  const noop: LogMethod = () => undefined;
  const pick = (...names: string[]): LogMethod => {
    for (const name of names) if (typeof member(logger, name) === 'function') return wrap(member(logger, name) as LogMethod);
    return noop;
  };
  // nodemailer calls all six bunyan levels; a logger without one must not throw mid-send.
  return {
    trace: pick('trace', 'debug'),
    debug: pick('debug'),
    info: pick('info'),
    warn: pick('warn', 'info'),
    error: pick('error', 'warn'),
    fatal: pick('fatal', 'error'),
  } as Logger;
}
