import type { TLSSocket } from 'node:tls';
import type { SmtpOptions } from '../options.js';
import { type NodemailerError, SMTPConnection, type SendInfo, type SmtpConnection, asNodemailerError } from './nodemailer-parts.js';

export interface SessionOptions {
  /** The SMTP options resilient() hands to nodemailer (normalised). */
  smtp: SmtpOptions;
  /** The EHLO name resilient() would use. */
  name: string;
  /** Replaces nodemailer's connection, greeting and socket timeouts, in milliseconds. */
  timeoutMs: number;
}

/** What the server offered at EHLO, as nodemailer parsed it. */
export interface Offer {
  /** EHLO keywords after STARTTLS (or of the only EHLO); undefined when EHLO was refused and HELO used. */
  keywords: string[] | undefined;
  startTls: boolean;
  authOffered: boolean;
  authMechanisms: string[];
  /** SIZE limit in bytes, 0 when SIZE is offered without one, undefined when not offered. */
  size: number | undefined;
}

/**
 * nodemailer's SMTPConnection, driven one step at a time. Its replies and
 * failures are nodemailer's own, so toMailError classifies them as it does
 * for resilient(). The doctor writes MAIL FROM and RCPT TO itself because
 * nodemailer pipelines DATA with them, and the check must be able to stop
 * before DATA.
 */
export class SmtpSession {
  readonly connection: SmtpConnection;
  /** The server's first reply (220 ...). */
  greeting: string | undefined;
  /** How long the STARTTLS handshake took, in milliseconds. */
  startTlsMs: number | undefined;
  /** From connect() to an open connection (TCP, and the TLS handshake with implicit TLS), in milliseconds. */
  connectedMs: number | undefined;
  #failure: NodemailerError | undefined;
  #started = performance.now();
  #pending: ((err: NodemailerError) => void) | undefined;

  constructor(options: SessionOptions) {
    const { logger: _logger, debug: _debug, transactionLog: _log, ...smtp } = options.smtp;
    this.connection = new SMTPConnection({
      ...smtp,
      name: options.name,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      socketCloseTimeout: 500,
      logger: false,
    });
    const connection = this.connection;
    const onGreeting = connection._actionGreeting;
    connection._actionGreeting = (response: string) => {
      this.greeting = response;
      onGreeting.call(connection, response);
    };
    const onConnect = connection._onConnect;
    connection._onConnect = () => {
      this.connectedMs = Math.round(performance.now() - this.#started);
      onConnect.call(connection);
    };
    const upgrade = connection._upgradeConnection;
    connection._upgradeConnection = (callback) => {
      const started = performance.now();
      upgrade.call(connection, (err, secured) => {
        this.startTlsMs = Math.round(performance.now() - started);
        callback(err, secured);
      });
    };
    connection.on('error', (err: NodemailerError) => this.#fail(err));
    connection.on('end', () => this.#fail(asNodemailerError('Connection closed unexpectedly', 'ECONNECTION', 'CONN')));
  }

  #fail(err: NodemailerError): void {
    this.#failure ??= err;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.(err);
  }

  /** Runs one exchange; a connection failure in the middle of it rejects it. */
  #exchange<T>(start: (resolve: (value: T) => void, reject: (err: NodemailerError) => void) => void): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      this.#pending = reject;
      start(
        (value) => {
          this.#pending = undefined;
          resolve(value);
        },
        (err) => {
          this.#pending = undefined;
          reject(err);
        },
      );
    });
  }

  /** TCP (or TLS), greeting, EHLO, STARTTLS and EHLO again, as nodemailer does them. */
  connect(): Promise<void> {
    this.#started = performance.now();
    return this.#exchange((resolve, reject) => this.connection.connect((err) => (err ? reject(err) : resolve())));
  }

  login(auth: unknown): Promise<void> {
    return this.#exchange((resolve, reject) => this.connection.login(auth, (err) => (err ? reject(err) : resolve())));
  }

  /** Sends one command line and resolves with the server's whole reply. */
  command(line: string): Promise<string> {
    return this.#exchange((resolve) => {
      this.connection._responseActions.push(resolve);
      this.connection._sendCommand(line);
    });
  }

  /** RSET. */
  reset(): Promise<void> {
    return this.#exchange((resolve, reject) => this.connection.reset((err) => (err ? reject(err) : resolve())));
  }

  /** A whole transaction (MAIL, RCPT, DATA, the message), as nodemailer sends it. */
  send(envelope: { from: string; to: string[] }, message: NodeJS.ReadableStream): Promise<SendInfo> {
    return this.#exchange((resolve, reject) => this.connection.send(envelope, message, (err, info) => (err ? reject(err) : resolve(info!))));
  }

  /** Builds an error the way nodemailer builds one for this reply. */
  replyError(message: string, reply: string, command: string): NodemailerError {
    return this.connection._formatError(message, 'EENVELOPE', reply, command);
  }

  get secure(): boolean {
    return this.connection.secure;
  }

  get tlsSocket(): TLSSocket | undefined {
    return this.connection.secure ? (this.connection._socket as TLSSocket) : undefined;
  }

  offer(): Offer {
    const c = this.connection;
    return {
      keywords: c._ehloLines,
      // nodemailer forgets the plaintext EHLO once upgraded: having upgraded is the proof.
      startTls: this.startTlsMs !== undefined || (c._ehloLines ?? []).some((line) => /^STARTTLS\b/i.test(line)),
      authOffered: c.allowsAuth,
      authMechanisms: [...c._supportedAuth],
      size: c._supportedExtensions.includes('SIZE') ? c._maxAllowedSize : undefined,
    };
  }

  /** QUIT, then close; never throws. */
  close(): void {
    const c = this.connection;
    try {
      if (!this.#failure) c.quit();
      else c.close();
    } catch {
      c.close();
    }
    setTimeout(() => c.close(), 1000).unref();
  }
}
