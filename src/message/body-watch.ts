import type { MailLike } from '../nodemailer/mail-like.js';

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
