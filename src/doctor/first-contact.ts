import { lookup } from 'node:dns/promises';
import net, { type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { type CertificateFacts, certificateFacts } from './certificate.js';

/**
 * The first steps, on a raw socket: resolve the host, open TCP, and find the
 * server's TLS mode from what it sends first. A plaintext server greets at
 * once (`220 ...`); an implicit-TLS server says nothing until the client's
 * TLS hello. Waiting this long before trying TLS names a wrong `secure`
 * in under two seconds, where nodemailer waits for greetingTimeout (30 s).
 * When the configuration expects TLS the hello goes first, without waiting:
 * a plaintext server answers it with a greeting, which TLS reads as a bad
 * record.
 */
export const GREETING_WAIT_MS = 1500;

export async function resolveHost(host: string, timeoutMs: number): Promise<string[]> {
  if (net.isIP(host)) return [host];
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(bare)) return [bare];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`DNS lookup timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
  });
  try {
    const found = await Promise.race([lookup(bare, { all: true }), timeout]);
    return found.map((entry) => entry.address);
  } finally {
    clearTimeout(timer);
  }
}

export function connectTcp(address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`Connection timeout: no answer from ${address}:${port} in ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export type ServerMode =
  | { mode: 'plaintext'; banner: string; waitedMs: number }
  | { mode: 'tls'; banner: string | undefined; certificate: CertificateFacts | undefined; waitedMs: number }
  /** Bytes that are neither a greeting nor TLS (an HTTP or other service on that port). */
  | { mode: 'other'; bytes: string; waitedMs: number }
  | { mode: 'closed'; waitedMs: number }
  /** No greeting, and no answer to a TLS hello either. */
  | { mode: 'silent'; waitedMs: number; tlsError: string | undefined };

/** Resolves with the first chunk, or undefined on silence (after waitMs) or close. */
function firstBytes(socket: Socket | TLSSocket, waitMs: number): Promise<{ bytes: string } | { closed: true } | undefined> {
  return new Promise((resolve) => {
    const done = (value: { bytes: string } | { closed: true } | undefined) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('end', onClose);
      socket.pause();
      resolve(value);
    };
    const onData = (chunk: Buffer) => done({ bytes: chunk.toString('latin1') });
    const onClose = () => done({ closed: true });
    const timer = setTimeout(() => done(undefined), waitMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('end', onClose);
    socket.resume();
  });
}

function quit(socket: Socket | TLSSocket): void {
  socket.on('error', () => undefined);
  if (socket.writable) socket.end('QUIT\r\n');
  setTimeout(() => socket.destroy(), 200).unref();
}

const isGreeting = (bytes: string): boolean => /^\d{3}[- \r\n]/.test(bytes);
const firstLines = (bytes: string): string => bytes.split(/\r?\n/).filter(Boolean).slice(0, 3).join(' | ').slice(0, 300);

export interface TlsProbeOptions {
  /** The `tls` options the app gives (ca, servername, ...); verification is reported, not enforced. */
  tls: Record<string, unknown> | undefined;
  host: string;
  timeoutMs: number;
  /** Try TLS at once (the configuration says secure: true) instead of waiting for a greeting first. */
  expectTls: boolean;
  waitMs?: number;
}

/** Reads what the server sends first on a fresh TCP socket, and closes it. */
export async function detectServerMode(socket: Socket, options: TlsProbeOptions): Promise<ServerMode> {
  const started = performance.now();
  const waited = () => Math.round(performance.now() - started);
  const first = options.expectTls ? undefined : await firstBytes(socket, options.waitMs ?? GREETING_WAIT_MS);
  if (first && 'closed' in first) return { mode: 'closed', waitedMs: waited() };
  if (first) {
    quit(socket);
    return isGreeting(first.bytes) ? { mode: 'plaintext', banner: firstLines(first.bytes), waitedMs: waited() } : { mode: 'other', bytes: firstLines(first.bytes), waitedMs: waited() };
  }
  // Silence (or TLS expected): it may be waiting for our TLS hello.
  const servername = (options.tls?.['servername'] as string | undefined) ?? (net.isIP(options.host) ? undefined : options.host);
  const outcome = await new Promise<{ secure: TLSSocket } | { error: Error }>((resolve) => {
    const secure = tls.connect({
      ...options.tls,
      socket,
      host: options.host,
      ...(servername ? { servername } : {}),
      // Only to learn the mode and read the certificate; nothing is sent over it.
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => {
      secure.destroy();
      resolve({ error: new Error('no answer to a TLS hello') });
    }, options.timeoutMs);
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      resolve({ secure });
    });
    secure.once('error', (error) => {
      clearTimeout(timer);
      resolve({ error });
    });
  });
  if ('error' in outcome) {
    socket.destroy();
    // A plaintext server that greets late answers our hello with a reply: TLS reads that as a bad record.
    if (/wrong version number|packet length too long|unknown protocol|tls_validate_record_header|http request/i.test(outcome.error.message)) {
      const banner = options.expectTls ? '(the server answered the TLS hello in plaintext)' : '(the greeting came late, after the TLS hello)';
      return { mode: 'plaintext', banner, waitedMs: waited() };
    }
    return { mode: 'silent', waitedMs: waited(), tlsError: outcome.error.message };
  }
  const certificate = certificateFacts(outcome.secure);
  const banner = await firstBytes(outcome.secure, options.waitMs ?? GREETING_WAIT_MS);
  quit(outcome.secure);
  return { mode: 'tls', banner: banner && 'bytes' in banner ? firstLines(banner.bytes) : undefined, certificate, waitedMs: waited() };
}
