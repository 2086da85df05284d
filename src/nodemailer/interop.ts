import { createRequire } from 'node:module';
import * as nodemailerNamespace from 'nodemailer';
import type { SmtpOptions, TransportPlugin } from '../options.js';

// nodemailer 6.x-9.x is CommonJS, 10.x ships ESM and CommonJS with a default
// export; reach createTransport whichever shape this copy has.
type CreateTransport = (options: unknown, defaults?: unknown) => { transporter: TransportPlugin & { options?: SmtpOptions } };
const namespace = nodemailerNamespace as unknown as { createTransport?: CreateTransport; default?: { createTransport?: CreateTransport } };
const createTransport = (namespace.createTransport ?? namespace.default?.createTransport) as CreateTransport;

type TransportClass = new (options: SmtpOptions) => TransportPlugin & { options: SmtpOptions };
let smtpTransportClass: TransportClass | undefined;
let smtpPoolClass: TransportClass | undefined;

/** nodemailer's own SMTP transport and pool classes, taken from the copy the app uses. */
function classes(): { SMTPTransport: TransportClass; SMTPPool: TransportClass } {
  if (!smtpTransportClass || !smtpPoolClass) {
    // Building a transport makes no connection; it is the one way to reach
    // the classes that works for every nodemailer major from 6.9 on.
    const single = createTransport({ host: 'probe.invalid' }).transporter;
    const pooled = createTransport({ host: 'probe.invalid', pool: true }).transporter;
    smtpTransportClass = single.constructor as TransportClass;
    smtpPoolClass = pooled.constructor as TransportClass;
    pooled.close?.();
  }
  return { SMTPTransport: smtpTransportClass, SMTPPool: smtpPoolClass };
}

export function createSmtpTransport(options: SmtpOptions): TransportPlugin & { options: SmtpOptions } {
  const { SMTPTransport, SMTPPool } = classes();
  return options.pool ? new SMTPPool(options) : new SMTPTransport(options);
}

/**
 * Resolves a URL string, `url` option and well-known `service` exactly as
 * nodemailer's SMTP transport does, without connecting.
 */
export function resolveSmtpOptions(input: string | SmtpOptions): SmtpOptions {
  const { SMTPTransport } = classes();
  const probe = new SMTPTransport(typeof input === 'string' ? ({ url: input } as SmtpOptions) : input);
  const resolved: SmtpOptions = { ...probe.options };
  delete resolved.url;
  return resolved;
}

/** The non-SMTP transports nodemailer builds from options (sendmail, SES, stream, JSON). */
export function createInnerTransport(options: SmtpOptions): TransportPlugin {
  const mailer = createTransport(options) as unknown as { transporter: TransportPlugin; on(event: string, fn: () => void): void };
  // That Mailer re-emits the transport's 'error'; we listen on the transport itself.
  mailer.on('error', () => undefined);
  return mailer.transporter;
}

export const NON_SMTP_KEYS = ['sendmail', 'SES', 'streamTransport', 'jsonTransport'] as const;

type AddressParser = (text: string) => Array<{ address?: string }>;
let addressparser: AddressParser | undefined;

/**
 * The envelope address of a From value (`App <app@example.com>` ->
 * `app@example.com`), parsed by nodemailer's own address parser. Loaded on
 * first use with `require`: nodemailer 6.x has no exports map, 10.x exports
 * `lib/addressparser` under a `require` condition.
 */
export function envelopeAddress(from: string): string | undefined {
  if (!addressparser) {
    const mod = createRequire(import.meta.url)('nodemailer/lib/addressparser') as AddressParser & { default?: AddressParser };
    addressparser = mod.default ?? mod;
  }
  return addressparser(from)[0]?.address?.trim() || undefined;
}
