import { hostname } from 'node:os';
import { assertSender, domainOf, isDubiousEhloName } from './config/ehlo-name.js';

/** The parts of nodemailer's MailMessage that the wrapper reads. */
export interface MailLike {
  data: Record<string, unknown> & { signal?: AbortSignal; envelope?: { from?: unknown } };
  message: {
    getEnvelope(): { from: string | false; to: string[] };
    setEnvelope?(envelope: { from: string | false; to: string[] }): void;
    messageId(): string;
    /** Adds a step that every stream of this message passes through (nodemailer's DKIM hook). */
    processFunc(step: (stream: NodeJS.ReadableStream) => NodeJS.ReadableStream): void;
  };
}

/** The EHLO name used when the sender's domain does not give one: never localhost, never dotless. */
export const FALLBACK_EHLO_NAME = ((): string => {
  const name = hostname();
  return name && !isDubiousEhloName(name) ? name.toLowerCase() : '[127.0.0.1]';
})();

/** Per-sender results, so a send does not parse its addresses twice. Cleared when full. */
const SENDER_CACHE_MAX = 1000;
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

const ehloNames = new Map<string, string>();

export function ehloNameFromSender(from: string | undefined): string {
  if (!from) return FALLBACK_EHLO_NAME;
  let name = ehloNames.get(from);
  if (name === undefined) {
    name = domainOf(from) || FALLBACK_EHLO_NAME;
    if (ehloNames.size >= SENDER_CACHE_MAX) ehloNames.clear();
    ehloNames.set(from, name);
  }
  return name;
}

const isStream = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && typeof (value as { pipe?: unknown }).pipe === 'function';

/**
 * A stream can be read once: a message whose content includes one cannot be
 * rebuilt for a retry. Strings, Buffers, paths and URLs can.
 */
export function isReplayable(data: Record<string, unknown>): boolean {
  const parts: unknown[] = [data['text'], data['html'], data['amp'], data['watchHtml'], data['raw'], data['icalEvent']];
  for (const list of [data['attachments'], data['alternatives']]) {
    if (Array.isArray(list)) parts.push(...list);
  }
  return !parts.some(
    (part) =>
      isStream(part) ||
      (typeof part === 'object' && part !== null && (isStream((part as Record<string, unknown>)['content']) || isStream((part as Record<string, unknown>)['raw']))),
  );
}

/** Whether the body of the current attempt has been handed to the socket. */
export interface BodyWatch {
  /** Starts watching a new attempt; a stream from an earlier attempt that ends late does not count. */
  beginAttempt(): { readonly bodySent: boolean };
}

class MessageBodyWatch implements BodyWatch {
  #current = { bodySent: false };

  beginAttempt(): { readonly bodySent: boolean } {
    this.#current = { bodySent: false };
    return this.#current;
  }

  /** A post-processing step of nodemailer's message stream that passes the stream on as it is. */
  readonly watch = (stream: NodeJS.ReadableStream): NodeJS.ReadableStream => {
    const attempt = this.#current;
    // on, not once: the stream ends once and is dropped, and a Readable's removeListener is not cheap.
    stream.on('end', () => {
      attempt.bodySent = true;
    });
    return stream;
  };
}

/**
 * Watches the message stream of each attempt: once it has ended, the final
 * "." has been handed to the socket, and a lost connection no longer means
 * "not delivered". (DataStream writes the dot as soon as its source ends.)
 * It is added with nodemailer's own processFunc(), the hook DKIM signing
 * uses, after DKIM's, so it sees the stream as sent. With nodemailer's
 * `newline` option a line-ending stage follows; the body then counts as sent
 * a moment early, which can only turn a retry into DeliveryUnknownError,
 * never into a second delivery.
 */
export function watchBody(mail: MailLike): BodyWatch {
  const watch = new MessageBodyWatch();
  mail.message.processFunc(watch.watch);
  return watch;
}
