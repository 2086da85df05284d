export { resilient } from './resilient.js';
export { ResilientTransport, type NormalizationReport } from './transport.js';
export { normalizeOptions, type NormalizedConfig, type NormalizedDestination } from './config/normalize-options.js';
export { BREAKER_DEFAULTS, RETRY_BUDGET_DEFAULTS, RETRY_DEFAULTS } from './config/normalize-options.js';
export { resetDestinations, destinationCount, MAX_DESTINATIONS } from './destinations/registry.js';
export { classifyError, factsOf, enhancedStatusOf, CLASSIFICATION_TABLE, type Classification, type FailureFacts } from './errors/classify.js';
export { toMailError } from './errors/to-mail-error.js';
export { MailError, type MailErrorInit, type MailErrorName } from './errors/mail-error.js';
export { ConfigError } from './errors/config-error.js';
export { ConnectionError } from './errors/connection-error.js';
export { TlsError } from './errors/tls-error.js';
export { AuthError } from './errors/auth-error.js';
export { HeloRejectedError } from './errors/helo-rejected-error.js';
export { SenderRejectedError } from './errors/sender-rejected-error.js';
export { RecipientsRejectedError } from './errors/recipients-rejected-error.js';
export { MessageRejectedError } from './errors/message-rejected-error.js';
export { DeliveryUnknownError } from './errors/delivery-unknown-error.js';
export { CircuitOpenError } from './errors/circuit-open-error.js';
export {
  isMailError,
  isConfigError,
  isConnectionError,
  isTlsError,
  isAuthError,
  isHeloRejectedError,
  isSenderRejectedError,
  isRecipientsRejectedError,
  isMessageRejectedError,
  isDeliveryUnknownError,
  isCircuitOpenError,
  type AnyMailError,
  type UnclassifiedMailError,
} from './errors/guards.js';
export { maskOptions } from './redact.js';
export type { Logger } from './logger.js';
export type {
  ResilientOptions,
  SmtpOptions,
  RetryOptions,
  BreakerOptions,
  RetryBudgetOptions,
  NormalizeOptions,
  Destination,
  TransportPlugin,
  RetryEvent,
  BreakerEvent,
  BreakerState,
  FailoverEvent,
} from './options.js';
export { VERSION } from './version.js';
