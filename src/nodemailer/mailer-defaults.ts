import { envelopeAddress } from './interop.js';

/**
 * The envelope address of the default `from` that the app gave
 * `createTransport(transport, defaults)`. nodemailer's Mailer keeps the
 * defaults in `_defaults` (6.9 to 10.x) and sets itself as `transport.mailer`.
 */
export function defaultSenderOf(mailer: unknown): string | undefined {
  const defaults = (mailer as { _defaults?: { from?: unknown } } | undefined)?._defaults;
  const from = defaults?.from;
  const text = typeof from === 'string' ? from : (from as { address?: unknown } | undefined)?.address;
  return typeof text === 'string' ? envelopeAddress(text) : undefined;
}
