import { assertSender } from '../config/ehlo-name.js';
import type { MailLike } from '../nodemailer/mail-like.js';

/** Per-sender results, so a send does not parse its addresses twice. Cleared when full. */
export const SENDER_CACHE_MAX = 1000;
const checkedSenders = new Map<string, string | undefined>();

const isTextOrUnset = (value: unknown): value is string | undefined => value === undefined || typeof value === 'string';

/**
 * The cache key for a sender: the From header alone in the common case (no
 * envelope.from, no Sender), else the three joined after a NUL, which no
 * header value starts with. Addresses given as objects are not cached.
 */
function senderKey(envelopeFrom: unknown, headerFrom: unknown, sender: unknown): string | undefined {
  if (envelopeFrom === undefined && sender === undefined) return typeof headerFrom === 'string' ? headerFrom : undefined;
  if (!isTextOrUnset(envelopeFrom) || !isTextOrUnset(headerFrom) || !isTextOrUnset(sender)) return undefined;
  return `\u0000${envelopeFrom ?? ''}\u0000${headerFrom ?? ''}\u0000${sender ?? ''}`;
}

/** The envelope sender, checked; throws ConfigError when what was given does not parse to an address. */
export function envelopeSender(mail: MailLike, required: boolean): string | undefined {
  const envelopeFrom = mail.data.envelope?.from;
  const headerFrom = mail.data['from'];
  const sender = mail.data['sender'];
  const given = envelopeFrom ?? headerFrom ?? sender;
  if (given === undefined || given === null) {
    if (required) assertSender(undefined, undefined);
    return undefined;
  }
  const key = senderKey(envelopeFrom, headerFrom, sender);
  if (key !== undefined && checkedSenders.has(key)) return checkedSenders.get(key);
  const from = mail.message.getEnvelope().from;
  assertSender(from === false ? undefined : from, typeof given === 'string' ? given : from);
  const result = from || undefined;
  if (key !== undefined) {
    if (checkedSenders.size >= SENDER_CACHE_MAX) checkedSenders.clear();
    checkedSenders.set(key, result);
  }
  return result;
}
