import { inspect } from 'node:util';

/**
 * Marks our errors so the guards hold even when the CommonJS and the ESM copy
 * of this package are both loaded (each copy has its own classes, so
 * `instanceof` alone would fail across them).
 */
export const MAIL_ERROR_BRAND: unique symbol = Symbol.for('nodemailer-resilient.MailError') as never;

export type MailErrorName =
  | 'MailError'
  | 'ConfigError'
  | 'ConnectionError'
  | 'TlsError'
  | 'AuthError'
  | 'HeloRejectedError'
  | 'SenderRejectedError'
  | 'RecipientsRejectedError'
  | 'MessageRejectedError'
  | 'DeliveryUnknownError'
  | 'CircuitOpenError';

/** What every typed error can be built from. */
export interface MailErrorInit {
  /** nodemailer's code (EAUTH, EENVELOPE, ...) or ours where it has none (ECONFIG, EBREAKER). */
  code: string;
  retryable: boolean;
  /** One sentence naming the option or action that fixes it. */
  hint: string;
  responseCode?: number | undefined;
  response?: string | undefined;
  command?: string | undefined;
  enhancedStatus?: string | undefined;
  /** nodemailer 10's own verdict on the reply, kept as it set it. */
  permanent?: boolean | undefined;
  attempts?: number | undefined;
  /** `host:port` (never credentials). */
  destination?: string | undefined;
  rejected?: string[] | undefined;
  rejectedErrors?: Error[] | undefined;
  cause?: unknown;
}

const FIELDS = [
  'code',
  'responseCode',
  'response',
  'command',
  'enhancedStatus',
  'permanent',
  'retryable',
  'hint',
  'attempts',
  'destination',
  'rejected',
] as const;

/**
 * The base of every error this library returns. It keeps nodemailer's
 * `code`, `response`, `responseCode` and `command` exactly, so existing
 * checks such as `err.responseCode === 550` keep working.
 */
export class MailError extends Error {
  override name: MailErrorName = 'MailError';
  readonly [MAIL_ERROR_BRAND] = true;
  code: string;
  responseCode?: number;
  response?: string;
  command?: string;
  /** RFC 3463 enhanced status code from the reply, e.g. `'5.7.1'`. */
  enhancedStatus?: string;
  permanent?: boolean;
  /** Whether sending the same message again can succeed without a change on our side. */
  retryable: boolean;
  hint: string;
  /** How many attempts were made (1 when it was not retried). */
  attempts: number;
  destination?: string;
  rejected?: string[];
  rejectedErrors?: Error[];

  constructor(message: string, init: MailErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.retryable = init.retryable;
    this.hint = init.hint;
    this.attempts = init.attempts ?? 1;
    if (init.responseCode !== undefined) this.responseCode = init.responseCode;
    if (init.response !== undefined) this.response = init.response;
    if (init.command !== undefined) this.command = init.command;
    if (init.enhancedStatus !== undefined) this.enhancedStatus = init.enhancedStatus;
    if (init.permanent !== undefined) this.permanent = init.permanent;
    if (init.destination !== undefined) this.destination = init.destination;
    if (init.rejected !== undefined) this.rejected = init.rejected;
    if (init.rejectedErrors !== undefined) this.rejectedErrors = init.rejectedErrors;
    // The root failure stays reachable but out of loggers' way, as got does.
    if ('cause' in this) Object.defineProperty(this, 'cause', { enumerable: false });
  }

  /** A plain, secret-free object for structured logs and JSON APIs. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, message: this.message };
    for (const key of FIELDS) {
      const value = this[key];
      if (value !== undefined) out[key] = value;
    }
    if (this.rejectedErrors) {
      out['rejectedErrors'] = this.rejectedErrors.map((e) => {
        const r = e as Error & { response?: string; responseCode?: number; recipient?: string };
        return { message: r.message, response: r.response, responseCode: r.responseCode, recipient: r.recipient };
      });
    }
    return out;
  }

  /** `util.inspect` (and so console.log) shows the same safe fields, not the cause chain's internals. */
  [inspect.custom](): string {
    const { name: _name, message: _message, ...rest } = this.toJSON();
    return `${this.stack ?? `${this.name}: ${this.message}`} ${inspect(rest, { breakLength: 100 })}`;
  }
}
