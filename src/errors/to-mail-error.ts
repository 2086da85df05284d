import type { Redactor } from '../redact.js';
import { AuthError } from './auth-error.js';
import { classifyError, enhancedStatusOf, factsOf, type FailureFacts } from './classify.js';
import { ConfigError } from './config-error.js';
import { ConnectionError } from './connection-error.js';
import { DeliveryUnknownError } from './delivery-unknown-error.js';
import { isMailError } from './guards.js';
import { HeloRejectedError } from './helo-rejected-error.js';
import { MailError, type MailErrorInit } from './mail-error.js';
import { MessageRejectedError } from './message-rejected-error.js';
import { RecipientsRejectedError } from './recipients-rejected-error.js';
import { SenderRejectedError } from './sender-rejected-error.js';
import { TlsError } from './tls-error.js';

const CLASSES = {
  MailError,
  ConnectionError,
  TlsError,
  AuthError,
  HeloRejectedError,
  SenderRejectedError,
  RecipientsRejectedError,
  MessageRejectedError,
  DeliveryUnknownError,
} as const;

export interface ErrorContext {
  bodySent?: boolean;
  secure?: boolean | undefined;
  port?: number | undefined;
  destination?: string | undefined;
  attempts?: number;
  redact: Redactor;
  /** The user accepts a possible duplicate: a message whose fate is unknown may be sent again. */
  resendOnUnknownDelivery?: boolean;
}

/**
 * The one place errors are built: classifies what nodemailer (or an inner
 * transport) raised and masks secrets in everything that is copied over.
 * nodemailer's code, response, responseCode and command are kept as they were.
 */
export function toMailError(raw: unknown, context: ErrorContext): MailError {
  if (isMailError(raw)) return raw as MailError;
  const facts: FailureFacts = {
    ...factsOf(raw),
    bodySent: context.bodySent,
    secure: context.secure,
    port: context.port,
    destination: context.destination,
  };
  const classification = classifyError(facts);
  const { name, hint } = classification;
  const retryable = classification.retryable || (name === 'DeliveryUnknownError' && context.resendOnUnknownDelivery === true);
  const source = (raw ?? {}) as Record<string, unknown>;
  const redact = context.redact;
  const init: MailErrorInit = {
    code: facts.code ?? (name === 'ConfigError' ? 'ECONFIG' : 'EMAIL'),
    retryable,
    hint: redact(hint),
    responseCode: facts.responseCode,
    response: facts.response === undefined ? undefined : redact(facts.response),
    command: facts.command,
    enhancedStatus: enhancedStatusOf(facts.response),
    permanent: facts.permanent,
    attempts: context.attempts ?? 1,
    destination: context.destination,
    rejected: Array.isArray(source['rejected']) ? (source['rejected'] as string[]) : undefined,
    rejectedErrors: Array.isArray(source['rejectedErrors']) ? (source['rejectedErrors'] as Error[]) : undefined,
    cause: raw,
  };
  // OpenSSL messages end in a newline; nothing else is changed, the server's reply stays in.
  const message = redact((facts.message ?? 'Unknown error').trimEnd());
  if (name === 'ConfigError') return new ConfigError(message, init.hint, init);
  return new CLASSES[name](message, init);
}
