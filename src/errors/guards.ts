import type { AuthError } from './auth-error.js';
import type { CircuitOpenError } from './circuit-open-error.js';
import type { ConfigError } from './config-error.js';
import type { ConnectionError } from './connection-error.js';
import type { DeliveryUnknownError } from './delivery-unknown-error.js';
import type { HeloRejectedError } from './helo-rejected-error.js';
import { MAIL_ERROR_BRAND, type MailError } from './mail-error.js';
import type { MessageRejectedError } from './message-rejected-error.js';
import type { RecipientsRejectedError } from './recipients-rejected-error.js';
import type { SenderRejectedError } from './sender-rejected-error.js';
import type { TlsError } from './tls-error.js';

/** A failure the table could not place (a custom transport's own error): the base class itself. */
export type UnclassifiedMailError = MailError & { name: 'MailError' };

/** Every error class this library returns, as a union that narrows on `name`. */
export type AnyMailError =
  | UnclassifiedMailError
  | ConfigError
  | ConnectionError
  | TlsError
  | AuthError
  | HeloRejectedError
  | SenderRejectedError
  | RecipientsRejectedError
  | MessageRejectedError
  | DeliveryUnknownError
  | CircuitOpenError;

/**
 * True for any error returned by this library, also across the CommonJS and
 * ESM copies of the package (the check is on a registered symbol, not on
 * `instanceof`).
 */
export function isMailError(value: unknown): value is AnyMailError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MAIL_ERROR_BRAND] === true;
}

function guard<T extends AnyMailError>(name: T['name']) {
  return (value: unknown): value is T => isMailError(value) && value.name === name;
}

export const isConfigError = guard<ConfigError>('ConfigError');
export const isConnectionError = guard<ConnectionError>('ConnectionError');
export const isTlsError = guard<TlsError>('TlsError');
export const isAuthError = guard<AuthError>('AuthError');
export const isHeloRejectedError = guard<HeloRejectedError>('HeloRejectedError');
export const isSenderRejectedError = guard<SenderRejectedError>('SenderRejectedError');
export const isRecipientsRejectedError = guard<RecipientsRejectedError>('RecipientsRejectedError');
export const isMessageRejectedError = guard<MessageRejectedError>('MessageRejectedError');
export const isDeliveryUnknownError = guard<DeliveryUnknownError>('DeliveryUnknownError');
export const isCircuitOpenError = guard<CircuitOpenError>('CircuitOpenError');
