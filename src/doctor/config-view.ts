import { maskOptions } from '../redact.js';
import type { DoctorInput } from './input.js';

/** One row of the printed configuration: what resilient() uses, and where it came from. */
export interface ConfigRow {
  key: string;
  value: string;
  source?: string;
}

const SHOWN_FIRST = ['host', 'port', 'secure', 'requireTLS', 'ignoreTLS', 'auth', 'name', 'tls'];

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The normalised SMTP options with secrets masked and certificates counted rather than printed. */
export function maskedSmtp(input: DoctorInput): Record<string, unknown> {
  const masked = maskOptions(input.smtp) as Record<string, unknown>;
  const tls = masked['tls'] as Record<string, unknown> | undefined;
  if (tls && tls['ca'] !== undefined) {
    const count = Array.isArray(tls['ca']) ? tls['ca'].length : 1;
    masked['tls'] = { ...tls, ca: `[${count} certificate${count === 1 ? '' : 's'}]` };
  }
  return masked;
}

function sourceOf(input: DoctorInput, ...fields: Array<keyof DoctorInput['origins']>): string | undefined {
  const names = fields.map((f) => input.origins[f]?.name).filter((n): n is string => !!n);
  return names.length ? [...new Set(names)].join(', ') : undefined;
}

/** The rows printed under "Configuration", in a fixed order. */
export function configRows(input: DoctorInput): ConfigRow[] {
  const smtp = maskedSmtp(input);
  const rows: ConfigRow[] = [];
  const add = (key: string, value: string, source?: string) => rows.push(source ? { key, value, source } : { key, value });
  add('host', show(smtp['host']), sourceOf(input, 'host'));
  add('port', smtp['port'] === undefined ? `${input.port} (nodemailer's default for secure: ${smtp['secure'] === true})` : show(smtp['port']), sourceOf(input, 'port'));
  add('secure', show(smtp['secure'] ?? false), sourceOf(input, 'secure') ?? 'default');
  for (const key of ['requireTLS', 'ignoreTLS'] as const) if (smtp[key] !== undefined) add(key, show(smtp[key]));
  const auth = smtp['auth'] as Record<string, unknown> | undefined;
  add('auth', auth ? `user ${JSON.stringify(auth['user'] ?? '')}, pass ${auth['pass'] === undefined ? '(none)' : show(auth['pass'])}` : '(none: no login)', sourceOf(input, 'user', 'pass'));
  if (smtp['tls'] !== undefined) add('tls', show(smtp['tls']));
  for (const [key, value] of Object.entries(smtp)) {
    if (!SHOWN_FIRST.includes(key) && value !== undefined) add(key, show(value));
  }
  add('from', input.from === undefined ? '(none)' : input.from, sourceOf(input, 'from'));
  add('EHLO name', input.ehloName, { name: 'the name option', sender: "the sender's domain", fallback: 'no sender domain: fallback' }[input.ehloNameSource]);
  if (input.to) add('to', `${input.to} (a test message is sent)`);
  if (input.url) add('url', input.url.redacted, input.url.origin.name);
  const destination = input.config.destinations[0]!;
  for (const note of destination.notes) add('changed', note);
  for (const warning of destination.warnings) add('warning', warning);
  return rows;
}
