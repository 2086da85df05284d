import type { NormalizedDestination } from '../config/normalize-options.js';
import type { Logger } from '../logger.js';
import { createSmtpTransport } from '../nodemailer/interop.js';
import type { TransportPlugin } from '../options.js';

export interface InnerTransportEvents {
  /** The logger handed to nodemailer (already redacting), or nodemailer's own boolean. */
  logger: Logger | boolean | undefined;
  onIdle(): void;
  onError(err: unknown): void;
  /** The Mailer that adopted the outer transport: a wrapped plugin may read it, as it would unwrapped. */
  mailer(): unknown;
}

/**
 * The transports one destination sends through for one resilient()
 * transport: nodemailer's SMTP transport (or pool) per EHLO name, or the
 * wrapped plugin. Made on first use.
 */
export class InnerTransports {
  readonly #spec: NormalizedDestination;
  readonly #events: InnerTransportEvents;
  readonly #byName = new Map<string, TransportPlugin>();
  /** Removes our listeners from inner transports on close(). */
  #detach: Array<() => void> = [];

  constructor(spec: NormalizedDestination, events: InnerTransportEvents) {
    this.#spec = spec;
    this.#events = events;
  }

  /** The inner transport for an EHLO name ('' or undefined: the default name, or a wrapped plugin). */
  get(ehloName: string | undefined): TransportPlugin {
    const key = this.#spec.kind === 'smtp' ? (ehloName ?? '') : '';
    return this.#byName.get(key) ?? this.#create(key, ehloName);
  }

  #create(key: string, ehloName: string | undefined): TransportPlugin {
    let inner: TransportPlugin;
    if (this.#spec.kind === 'plugin') {
      inner = this.#spec.plugin!;
    } else {
      const options = { ...this.#spec.smtp! };
      if (ehloName) options.name = ehloName;
      if (this.#events.logger !== undefined) options.logger = this.#events.logger;
      inner = createSmtpTransport(options);
    }
    if (typeof inner.on === 'function') {
      const { onIdle, onError } = this.#events;
      inner.on('idle', onIdle);
      inner.on('error', onError);
      this.#detach.push(() => {
        inner.removeListener?.('idle', onIdle);
        inner.removeListener?.('error', onError);
      });
    }
    (inner as { mailer?: unknown }).mailer ??= this.#events.mailer();
    this.#byName.set(key, inner);
    return inner;
  }

  isIdle(): boolean {
    for (const inner of this.#byName.values()) {
      if (typeof inner.isIdle === 'function' && !inner.isIdle()) return false;
    }
    return true;
  }

  close(): void {
    for (const inner of this.#byName.values()) inner.close?.();
    this.#byName.clear();
    for (const detach of this.#detach.splice(0)) detach();
  }
}
