import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { EventEmitter } from 'node:events';

/**
 * The pieces of nodemailer the doctor drives directly, taken from the copy
 * the app uses. `require` because nodemailer 6.x has no exports map (an ESM
 * import would need `lib/smtp-connection/index.js`) while 10.x exports
 * `lib/smtp-connection` under a `require` condition: one spelling for both.
 */
const require = createRequire(import.meta.url);

/** An error as nodemailer raises it: code, response, responseCode, command. */
export interface NodemailerError extends Error {
  code?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  timeoutType?: string;
  rejected?: string[];
  rejectedErrors?: NodemailerError[];
  recipient?: string;
}

export interface SendInfo {
  accepted: string[];
  rejected: string[];
  response?: string;
}

/**
 * What the doctor uses of nodemailer's SMTPConnection. The underscored
 * members are internals present from 6.9 to 10.x; the doctor reads them to
 * report what the server offered, and writes MAIL FROM and RCPT TO itself so
 * that it can stop before DATA (nodemailer's own envelope pipelines DATA).
 */
export interface SmtpConnection extends EventEmitter {
  secure: boolean;
  allowsAuth: boolean;
  authenticated: boolean;
  lastServerResponse: string | false;
  _socket: Socket | TLSSocket | false;
  _supportedAuth: string[];
  _supportedExtensions: string[];
  _maxAllowedSize: number;
  _ehloLines?: string[];
  _plaintextEhlo?: string | false;
  _responseActions: Array<(response: string) => void>;
  connect(callback: (err?: NodemailerError) => void): void;
  login(auth: unknown, callback: (err: NodemailerError | null) => void): void;
  send(envelope: { from: string; to: string[] }, message: NodeJS.ReadableStream, callback: (err: NodemailerError | null, info?: SendInfo) => void): void;
  reset(callback: (err: NodemailerError | null) => void): void;
  quit(): void;
  close(): void;
  _sendCommand(line: string, logLine?: string): void;
  _formatError(message: string | Error, type: string, response: string | false, command: string): NodemailerError;
  _actionGreeting(response: string): void;
  _onConnect(): void;
  _upgradeConnection(callback: (err: Error | null, secured?: boolean) => void): void;
}

type SmtpConnectionClass = new (options: Record<string, unknown>) => SmtpConnection;
interface MimeNodeLike {
  build(callback: (err: Error | null, message: Buffer) => void): void;
}
type MailComposerClass = new (mail: Record<string, unknown>) => { compile(): MimeNodeLike };

const defaultOf = <T>(mod: unknown): T => ((mod as { default?: T }).default ?? mod) as T;

export const SMTPConnection: SmtpConnectionClass = defaultOf(require('nodemailer/lib/smtp-connection'));
const MailComposer: MailComposerClass = defaultOf(require('nodemailer/lib/mail-composer'));

/**
 * Wraps a failure exactly as nodemailer does (code, originalCode, response,
 * responseCode, permanent, command), for the failures the doctor finds
 * before nodemailer would, such as a greeting that would time out.
 */
export function asNodemailerError(err: string | Error, type: string, command: string, response: string | false = false): NodemailerError {
  return SMTPConnection.prototype._formatError.call(null, err, type, response, command);
}

/** A small text message built by nodemailer's own composer (Date, Message-ID, MIME headers). */
export function composeTestMessage(from: string, to: string, subject: string, text: string): Promise<Buffer> {
  const node = new MailComposer({ from, to, subject, text, headers: { 'X-Mailer': 'nodemailer-resilient doctor' } }).compile();
  return new Promise((resolve, reject) => node.build((err, message) => (err ? reject(err) : resolve(message))));
}
