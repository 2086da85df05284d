import { hostname } from 'node:os';
import { assertSender, domainOf, isDubiousEhloName } from './config/ehlo-name.js';

/** The parts of nodemailer's MailMessage that the wrapper reads. */
export interface MailLike {
  data: Record<string, unknown> & { signal?: AbortSignal; envelope?: { from?: unknown } };
  message: {
    getEnvelope(): { from: string | false; to: string[] };
    setEnvelope?(envelope: { from: string | false; to: string[] }): void;
    messageId(): string;
    createReadStream(...args: unknown[]): NodeJS.ReadableStream;
  };
}

/** The EHLO name used when the sender's domain does not give one: never localhost, never dotless. */
export const FALLBACK_EHLO_NAME = ((): string => {
  const name = hostname();
  return name && !isDubiousEhloName(name) ? name.toLowerCase() : '[127.0.0.1]';
})();

/** The envelope sender, checked; throws ConfigError when what was given does not parse to an address. */
export function envelopeSender(mail: MailLike, required: boolean): string | undefined {
  const given = mail.data.envelope?.from ?? mail.data['from'] ?? mail.data['sender'];
  const from = mail.message.getEnvelope().from;
  if (given === undefined || given === null) {
    if (required) assertSender(undefined, undefined);
    return undefined;
  }
  assertSender(from === false ? undefined : from, typeof given === 'string' ? given : from);
  return from || undefined;
}

export function ehloNameFromSender(from: string | undefined): string {
  return (from && domainOf(from)) || FALLBACK_EHLO_NAME;
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

/**
 * Watches the message stream of each attempt: once it has ended, the final
 * "." has been handed to the socket, and a lost connection no longer means
 * "not delivered". (DataStream writes the dot as soon as its source ends.)
 */
export function watchBody(mail: MailLike): { begin(): { readonly bodySent: boolean }; restore(): void } {
  const message = mail.message;
  const own = Object.prototype.hasOwnProperty.call(message, 'createReadStream');
  const original = message.createReadStream;
  let current = { bodySent: false };
  message.createReadStream = function (this: unknown, ...args: unknown[]) {
    const stream = original.apply(this, args);
    const attempt = current;
    stream.once('end', () => {
      attempt.bodySent = true;
    });
    return stream;
  };
  return {
    begin() {
      current = { bodySent: false };
      return current;
    },
    restore() {
      if (own) message.createReadStream = original;
      else delete (message as Partial<MailLike['message']>).createReadStream;
    },
  };
}
