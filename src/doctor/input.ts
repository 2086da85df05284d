import { readFileSync } from 'node:fs';
import { type NormalizedConfig, normalizeOptions } from '../config/normalize-options.js';
import { ConfigError } from '../errors/config-error.js';
import { ehloNameFromSender } from '../message/ehlo-name.js';
import { resolveSmtpOptions } from '../nodemailer/interop.js';
import type { ResilientOptions, SmtpOptions } from '../options.js';
import { type Redactor, collectSecrets, createRedactor } from '../redact.js';
import { type DoctorArgs, UsageError } from './args.js';
import { envelopeAddress } from '../nodemailer/interop.js';

/** Where a setting came from, so that a fix names the line to change. */
export interface Origin {
  kind: 'env' | 'flag' | 'url';
  /** `SMTP_PORT`, `--port`, or the variable (or flag) that held the URL. */
  name: string;
}

export type Field = 'host' | 'port' | 'secure' | 'user' | 'pass' | 'from' | 'name';

/** The variable each field is read from, first match wins (what apps already use). */
export const ENV_NAMES: Record<Exclude<Field, 'name'>, readonly string[]> = {
  host: ['SMTP_HOST'],
  port: ['SMTP_PORT'],
  secure: ['SMTP_SECURE'],
  user: ['SMTP_USERNAME', 'SMTP_USER'],
  pass: ['SMTP_PASSWORD', 'SMTP_PASS'],
  from: ['SMTP_FROM', 'MAIL_FROM'],
};
const URL_ENV_NAMES = ['SMTP_URL', 'EMAIL_SERVER'] as const;

export interface DoctorInput {
  /** What the app would hand to resilient(). Holds the password: never print it. */
  options: ResilientOptions;
  /** normalizeOptions(options): what resilient() uses. */
  config: NormalizedConfig;
  /** The primary destination's SMTP options, normalised. */
  smtp: SmtpOptions;
  /** The port nodemailer dials (465 or 587 when none is set). */
  port: number;
  /** The sender as given, and its envelope address. */
  from: string | undefined;
  fromAddress: string | undefined;
  /** `--to`: a real message is sent there. */
  to: string | undefined;
  /** The EHLO name the library would use, and why. */
  ehloName: string;
  ehloNameSource: 'name' | 'sender' | 'fallback';
  origins: Partial<Record<Field, Origin>>;
  /** Set when a URL gave the connection settings. */
  url: { origin: Origin; redacted: string } | undefined;
  /** Masks every known form of the password. */
  redact: Redactor;
  timeout: number;
}

type Env = Record<string, string | undefined>;

/** The first variable that is set and not empty, else the first that is set (empty). */
function fromEnv(env: Env, names: readonly string[]): { value: string; origin: Origin } | undefined {
  const set = names.filter((name) => env[name] !== undefined);
  const name = set.find((n) => env[n] !== '') ?? set[0];
  return name === undefined ? undefined : { value: env[name]!, origin: { kind: 'env', name } };
}

/** The URL's password as typed (possibly percent-encoded), so that it is masked in that form too. */
function rawUrlPassword(url: string): string | undefined {
  return /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@/]*)@/i.exec(url)?.[1];
}

/** The same checks resilient() makes of a URL string, made before nodemailer parses it. */
function checkUrl(url: string): void {
  if (!/^smtps?:\/\//i.test(url.trim())) {
    throw new ConfigError('Expected an smtp:// or smtps:// URL, got a string that is not one', 'Use a URL such as smtps://user:pass@smtp.example.com:465.');
  }
  try {
    new URL(url);
  } catch {
    throw new ConfigError('The connection URL does not parse', 'Use the form smtp://user:pass@host:587 (percent-encode special characters in the password).');
  }
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read the --ca file ${JSON.stringify(file)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'Pass the path of a PEM file.');
  }
}

/**
 * Builds what an app would pass to resilient() from the environment and the
 * flags, and normalises it with the library's own normalizeOptions.
 * Throws UsageError or ConfigError before any connection is made.
 */
export function readInput(args: DoctorArgs, env: Env): DoctorInput {
  const origins: Partial<Record<Field, Origin>> = {};
  const given: Partial<Record<Field, string>> = {};
  const flagNames: Record<Field, keyof DoctorArgs> = { host: 'host', port: 'port', secure: 'secure', user: 'user', pass: 'pass', from: 'from', name: 'name' };

  const urlFromEnv = fromEnv(env, URL_ENV_NAMES);
  const urlSource: { value: string; origin: Origin } | undefined =
    args.url !== undefined ? { value: args.url, origin: { kind: 'flag', name: '--url' } } : urlFromEnv?.value ? urlFromEnv : undefined;

  const options: ResilientOptions = {};
  let url: DoctorInput['url'];
  const secrets: string[] = [];
  if (urlSource) {
    checkUrl(urlSource.value);
    const raw = rawUrlPassword(urlSource.value);
    if (raw) secrets.push(raw, decodeURIComponentSafe(raw));
    // nodemailer's own parsing (host, port, secure from the scheme, auth, query options).
    Object.assign(options, resolveSmtpOptions({ url: urlSource.value }));
    url = { origin: urlSource.origin, redacted: urlSource.value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@') };
    const auth = options.auth;
    for (const field of ['host', 'port', 'secure'] as const) if (options[field] !== undefined) origins[field] = urlSource.origin;
    if (auth?.user !== undefined) origins.user = urlSource.origin;
    if (auth?.pass !== undefined) origins.pass = urlSource.origin;
  }

  for (const field of Object.keys(flagNames) as Field[]) {
    const flag = args[flagNames[field]];
    if (typeof flag === 'string') {
      given[field] = flag;
      origins[field] = { kind: 'flag', name: `--${field}` };
      continue;
    }
    // A URL replaces the separate connection variables, as it does in nodemailer.
    if (field === 'name' || (urlSource && field !== 'from')) continue;
    const found = fromEnv(env, ENV_NAMES[field]);
    if (found) {
      given[field] = found.value;
      origins[field] = found.origin;
    }
  }

  if (given.host !== undefined) options.host = given.host;
  if (given.port !== undefined) options.port = given.port;
  if (given.secure !== undefined) options.secure = given.secure as NonNullable<SmtpOptions['secure']>;
  if (given.name !== undefined) options.name = given.name;
  if (given.user !== undefined || given.pass !== undefined) {
    options.auth = { ...options.auth, ...(given.user !== undefined ? { user: given.user } : {}), ...(given.pass !== undefined ? { pass: given.pass } : {}) };
  }
  if (args.ca !== undefined || args.servername !== undefined || args.insecure) {
    options.tls = {
      ...options.tls,
      ...(args.ca !== undefined ? { ca: [readCa(args.ca)] } : {}),
      ...(args.servername !== undefined ? { servername: args.servername } : {}),
      ...(args.insecure ? { rejectUnauthorized: false } : {}),
    };
  }
  secrets.push(...collectSecrets(options.auth));

  const config = normalizeOptions(options);
  const destination = config.destinations[0]!;
  const smtp = destination.smtp!;
  secrets.push(...collectSecrets(smtp.auth));
  const redact = createRedactor([...new Set(secrets.filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length));

  const from = given.from;
  const fromAddress = from === undefined || from.trim() === '' ? undefined : envelopeAddress(from);
  const explicitName = typeof smtp.name === 'string' ? smtp.name : undefined;
  const ehloName = explicitName ?? (config.ehloFromSender ? ehloNameFromSender(fromAddress) : ehloNameFromSender(undefined));
  const ehloNameSource: DoctorInput['ehloNameSource'] = explicitName ? 'name' : fromAddress && ehloName !== ehloNameFromSender(undefined) ? 'sender' : 'fallback';

  return {
    options,
    config,
    smtp,
    port: destination.port!,
    from,
    fromAddress,
    to: args.to,
    ehloName,
    ehloNameSource,
    origins,
    url,
    redact,
    timeout: args.timeout,
  };
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
