import { ConfigError } from '../errors/config-error.js';
import type {
  BreakerOptions,
  Destination,
  NormalizeOptions,
  ResilientOptions,
  RetryBudgetOptions,
  RetryOptions,
  SmtpOptions,
  TransportPlugin,
} from '../options.js';
import { NON_SMTP_KEYS, createInnerTransport, resolveSmtpOptions } from '../nodemailer/interop.js';
import { normalizeAuth } from './auth.js';
import { isDubiousEhloName } from './ehlo-name.js';
import { applyTlsMode, parsePort, parseSecure } from './port-and-tls.js';

/** Defaults: 3 attempts in all, as AWS SDK, Polly and Resilience4j; total time bounded. */
export const RETRY_DEFAULTS: Required<RetryOptions> = Object.freeze({
  retries: 2,
  factor: 2,
  minTimeout: 1000,
  maxTimeout: 10_000,
  randomize: true,
  maxRetryTime: 30_000,
});

export const BREAKER_DEFAULTS: Required<BreakerOptions> = Object.freeze({
  resetTimeout: 30_000,
  errorThresholdPercentage: 50,
  // opossum's default of 0 opens a fresh breaker on its first failure.
  volumeThreshold: 5,
  // Longer than nodemailer's 30 s greetingTimeout: opossum counts a call when it
  // starts and its failure when it ends, so a call that outlives the window
  // never counts, and a server that accepts and never greets would never open it.
  rollingCountTimeout: 60_000,
  rollingCountBuckets: 10,
});

/**
 * Shaped after the AWS SDK's retry quota (a bucket of tokens, a retry takes
 * some, a success gives one back). Costs of 2 and 5 keep retrying through a
 * steady failure rate of up to about a third (the bench injects 20%); a
 * destination failing for everyone drains the 100 tokens in 50 retries.
 */
export const RETRY_BUDGET_DEFAULTS: Required<RetryBudgetOptions> = Object.freeze({
  capacity: 100,
  retryCost: 2,
  timeoutCost: 5,
  successRefund: 1,
});

const OWN_KEYS = [
  'transport',
  'retry',
  'breaker',
  'retryBudget',
  'failover',
  'normalize',
  'resendOnUnknownDelivery',
  'retryDeferredRecipients',
  'onRetry',
  'onBreakerStateChange',
  'onFailover',
] as const;

export interface NormalizedDestination {
  kind: 'smtp' | 'plugin';
  /** `host:port` for SMTP, the transport's name otherwise: safe to print. */
  label: string;
  /** The breaker and budget key: host, port and user (never the password). */
  key: string;
  /** SMTP options for nodemailer, normalised; `name` only when the user set it. */
  smtp?: SmtpOptions;
  /** The port nodemailer will dial (its 465/587 default filled in), for SMTP destinations. */
  port?: number;
  plugin?: TransportPlugin;
  /** What normalisation changed, in words an operator understands. */
  notes: string[];
  warnings: string[];
}

export interface NormalizedConfig {
  destinations: NormalizedDestination[];
  retry: Required<RetryOptions> | false;
  breaker: Required<BreakerOptions> | false;
  retryBudget: Required<RetryBudgetOptions> | false;
  ehloFromSender: boolean;
  resendOnUnknownDelivery: boolean;
  retryDeferredRecipients: boolean;
  rules: Required<NormalizeOptions>;
}

function expectNumber(path: string, value: unknown, min: number, integer = false): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || (integer && !Number.isInteger(value) && value !== Infinity)) {
    throw new ConfigError(
      `Expected \`${path}\` to be ${integer ? 'a whole number' : 'a number'} >= ${min}, got ${JSON.stringify(value)}`,
      `Set ${path} to ${integer ? 'a whole number' : 'a number'} of at least ${min}, or leave it out for the default.`,
    );
  }
}

function expectObject(path: string, value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`Expected \`${path}\` to be an object, got ${JSON.stringify(value)}`, `Set ${path} to an object, or false to turn it off.`);
  }
}

function normalizeRetry(value: ResilientOptions['retry']): NormalizedConfig['retry'] {
  if (value === false) return false;
  if (value === undefined || (value as unknown) === true) return RETRY_DEFAULTS;
  if (typeof value === 'number') {
    expectNumber('retry', value, 0, true);
    return { ...RETRY_DEFAULTS, retries: value };
  }
  expectObject('retry', value);
  for (const key of Object.keys(value)) {
    if (!(key in RETRY_DEFAULTS)) {
      throw new ConfigError(`Unknown option \`retry.${key}\``, `Use one of ${Object.keys(RETRY_DEFAULTS).map((k) => `retry.${k}`).join(', ')}.`);
    }
  }
  expectNumber('retry.retries', value.retries, 0, true);
  expectNumber('retry.factor', value.factor, 1);
  expectNumber('retry.minTimeout', value.minTimeout, 0);
  expectNumber('retry.maxTimeout', value.maxTimeout, 0);
  expectNumber('retry.maxRetryTime', value.maxRetryTime, 0);
  return { ...RETRY_DEFAULTS, ...stripUndefined(value) };
}

function normalizeBreaker(value: ResilientOptions['breaker']): NormalizedConfig['breaker'] {
  if (value === false) return false;
  if (value === undefined) return BREAKER_DEFAULTS;
  expectObject('breaker', value);
  for (const key of Object.keys(value)) {
    if (!(key in BREAKER_DEFAULTS)) {
      const extra = key === 'timeout' ? ' (a breaker timeout would abandon a send still running and invite a duplicate; use socketTimeout)' : '';
      throw new ConfigError(`Unknown option \`breaker.${key}\`${extra}`, `Use one of ${Object.keys(BREAKER_DEFAULTS).map((k) => `breaker.${k}`).join(', ')}.`);
    }
  }
  expectNumber('breaker.resetTimeout', value.resetTimeout, 1);
  expectNumber('breaker.volumeThreshold', value.volumeThreshold, 0, true);
  expectNumber('breaker.rollingCountTimeout', value.rollingCountTimeout, 1);
  expectNumber('breaker.rollingCountBuckets', value.rollingCountBuckets, 1, true);
  if (value.errorThresholdPercentage !== undefined) {
    expectNumber('breaker.errorThresholdPercentage', value.errorThresholdPercentage, 0);
    if (value.errorThresholdPercentage > 100) expectNumber('breaker.errorThresholdPercentage', -1, 0);
  }
  return { ...BREAKER_DEFAULTS, ...stripUndefined(value) };
}

function normalizeBudget(value: ResilientOptions['retryBudget']): NormalizedConfig['retryBudget'] {
  if (value === false) return false;
  if (value === undefined) return RETRY_BUDGET_DEFAULTS;
  expectObject('retryBudget', value);
  for (const [key, v] of Object.entries(value)) {
    if (!(key in RETRY_BUDGET_DEFAULTS)) {
      throw new ConfigError(`Unknown option \`retryBudget.${key}\``, `Use one of ${Object.keys(RETRY_BUDGET_DEFAULTS).map((k) => `retryBudget.${k}`).join(', ')}.`);
    }
    expectNumber(`retryBudget.${key}`, v, 0);
  }
  return { ...RETRY_BUDGET_DEFAULTS, ...stripUndefined(value) };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function isPlugin(value: unknown): value is TransportPlugin {
  return typeof value === 'object' && value !== null && typeof (value as TransportPlugin).send === 'function';
}

function pluginDestination(plugin: TransportPlugin, index: number): NormalizedDestination {
  const label = `${plugin.name ?? 'transport'}#${index}`;
  return { kind: 'plugin', label, key: `plugin:${label}`, plugin, notes: [], warnings: [] };
}

function smtpDestination(input: string | SmtpOptions, rules: Required<NormalizeOptions>, index: number): NormalizedDestination {
  if (typeof input === 'string' && !/^smtps?:\/\//i.test(input.trim())) {
    throw new ConfigError(
      `Expected an smtp:// or smtps:// URL, got a string that is not one`,
      'Pass an options object, or a URL such as smtps://user:pass@smtp.example.com:465.',
    );
  }
  const own = typeof input === 'string' ? { url: input } : input;
  if (typeof own.url === 'string') {
    try {
      new URL(own.url);
    } catch {
      throw new ConfigError('The connection URL does not parse', 'Use the form smtp://user:pass@host:587 (percent-encode special characters in the password).');
    }
  }
  const options = resolveSmtpOptions(own);
  const notes: string[] = [];
  const warnings: string[] = [];

  if (!options.host || typeof options.host !== 'string') {
    throw new ConfigError(
      'No SMTP host is set, so nodemailer would silently connect to localhost',
      'Set host (for example from SMTP_HOST), or service, or pass an smtp:// URL.',
    );
  }
  const port = parsePort(options.port);
  if (port === undefined) delete options.port;
  else options.port = port;
  const secure = parseSecure(options.secure, notes);
  if (secure === undefined) delete options.secure;
  else options.secure = secure;
  if (rules.tlsFromPort) applyTlsMode(options, port, notes);
  normalizeAuth(options, rules.dropEmptyAuth, notes);

  if (typeof options.name === 'string' && options.name.trim() === '') delete options.name;
  if (typeof options.name === 'string' && isDubiousEhloName(options.name)) {
    warnings.push(`name "${options.name}" is refused by many servers (550 5.7.1 Helo command rejected); it is kept because you set it`);
  }
  // nodemailer's pool requeues a message on its own when a connection
  // closes, even after the final dot: our retries replace that, knowing
  // whether the body was written. An explicit maxRequeues is respected.
  if (options.pool && options['maxRequeues'] === undefined) options['maxRequeues'] = 0;

  const effectivePort = port ?? (options.secure ? 465 : 587);
  const user = typeof options.auth?.user === 'string' ? options.auth.user : '';
  return {
    kind: 'smtp',
    label: `${options.host}:${effectivePort}`,
    key: `smtp:${options.host.toLowerCase()}:${effectivePort}:${user}`,
    smtp: options,
    port: effectivePort,
    notes,
    warnings,
  };
}

function destinationFrom(input: Destination, rules: Required<NormalizeOptions>, index: number): NormalizedDestination {
  if (isPlugin(input)) return pluginDestination(input, index);
  if (typeof input === 'object' && input !== null) {
    const options = input as SmtpOptions;
    if (isPlugin(options['transport'])) return pluginDestination(options['transport'] as TransportPlugin, index);
    if (options['transport'] && typeof options['transport'] === 'object') return destinationFrom(options['transport'] as SmtpOptions, rules, index);
    if (NON_SMTP_KEYS.some((key) => options[key])) return pluginDestination(createInnerTransport(options), index);
  }
  if (typeof input !== 'string' && (typeof input !== 'object' || input === null)) {
    throw new ConfigError(
      `Expected options, an smtp:// URL or a transport, got ${input === null ? 'null' : typeof input}`,
      'Pass resilient({ host, port, auth }) or resilient("smtps://user:pass@host:465").',
    );
  }
  return smtpDestination(input as string | SmtpOptions, rules, index);
}

/**
 * One pure pass from what the user gave to a frozen internal object.
 * Never writes into the caller's object. Throws ConfigError.
 */
export function normalizeOptions(input: string | ResilientOptions): NormalizedConfig {
  const options: ResilientOptions = typeof input === 'string' ? { url: input } : { ...input };
  if (typeof input === 'string' && !/^smtps?:\/\//i.test(input.trim())) {
    throw new ConfigError('Expected an smtp:// or smtps:// URL', 'Pass an options object, or a URL such as smtps://user:pass@smtp.example.com:465.');
  }
  if (options.normalize !== undefined && options.normalize !== false) expectObject('normalize', options.normalize);
  const rules: Required<NormalizeOptions> =
    options.normalize === false
      ? { tlsFromPort: false, dropEmptyAuth: false, ehloFromSender: false }
      : { tlsFromPort: true, dropEmptyAuth: true, ehloFromSender: true, ...stripUndefined(options.normalize ?? {}) };

  const smtpOnly: SmtpOptions = { ...options };
  for (const key of OWN_KEYS) delete smtpOnly[key];
  if (options.auth && typeof options.auth === 'object') smtpOnly.auth = { ...options.auth };

  const primary: Destination = options.transport !== undefined ? (options.transport as Destination) : smtpOnly;
  if (options.failover !== undefined && !Array.isArray(options.failover)) {
    throw new ConfigError('Expected `failover` to be an array of destinations', 'Set failover: [{ host, port, auth }, "smtps://..."].');
  }
  const destinations = [primary, ...(options.failover ?? [])].map((d, i) =>
    destinationFrom(typeof d === 'object' && d !== null && !isPlugin(d) ? { ...d } : d, rules, i),
  );
  for (const hook of ['onRetry', 'onBreakerStateChange', 'onFailover'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') {
      throw new ConfigError(`Expected \`${hook}\` to be a function`, `Pass a function as ${hook}, or leave it out.`);
    }
  }

  return Object.freeze({
    destinations,
    retry: normalizeRetry(options.retry),
    breaker: normalizeBreaker(options.breaker),
    retryBudget: normalizeBudget(options.retryBudget),
    ehloFromSender: rules.ehloFromSender,
    resendOnUnknownDelivery: options.resendOnUnknownDelivery === true,
    retryDeferredRecipients: options.retryDeferredRecipients === true,
    rules,
  });
}
