import type { AddressInfo } from 'node:net';
import type { SMTPServerSession } from 'smtp-server';
import { UsageError } from './args.js';

type SmtpServerModule = typeof import('smtp-server');
type SelfsignedModule = typeof import('selfsigned');

/** A reply a demo server gives instead of accepting (e.g. `{ code: 550, message: '...' }`). */
export interface DemoReply {
  code: number;
  message: string;
}

export interface DemoServerOptions {
  /** 'implicit': TLS from the first byte; 'starttls': plaintext, STARTTLS offered. */
  tls: 'implicit' | 'starttls';
  /** 'optional': AUTH offered, not needed; 'required': no mail without it. */
  auth: 'optional' | 'required';
  onMailFrom?: (address: string, session: SMTPServerSession) => DemoReply | undefined;
  onRcptTo?: (address: string, session: SMTPServerSession) => DemoReply | undefined;
}

export interface DemoServer {
  port: number;
  close(): Promise<void>;
}

export const DEMO_USER = 'demo';
/** Not a secret: the demo servers' password, masked in the output all the same. */
export const DEMO_PASS = 'demo-password-4711';

/**
 * Loaded only for --demo, by a name the bundler cannot see: both are
 * devDependencies, present in a clone after `npm ci` but not in an app
 * that installed the package from the registry.
 */
async function optional<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch {
    throw new UsageError(
      `--demo needs the ${name} package, which is not installed`,
      'Run the demo from a clone of nodemailer-resilient after `npm ci`, or install it: npm install --no-save smtp-server selfsigned.',
    );
  }
}

export interface DemoKit {
  /** PEM of the demo servers' self-signed certificate (its own CA). */
  cert: string;
  start(options: DemoServerOptions): Promise<DemoServer>;
}

/** Loads smtp-server and makes one certificate for every demo server (127.0.0.1 and localhost). */
export async function demoKit(): Promise<DemoKit> {
  const { SMTPServer } = await optional<SmtpServerModule>('smtp-server');
  const { generate } = await optional<SelfsignedModule>('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'demo.localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    days: 2,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  } as never);
  const key = pems.private;
  const cert = pems.cert;

  async function start(options: DemoServerOptions): Promise<DemoServer> {
    const server = new SMTPServer({
      secure: options.tls === 'implicit',
      key,
      cert,
      logger: false,
      banner: 'nodemailer-resilient demo server',
      authOptional: options.auth === 'optional',
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth(credentials, _session, callback) {
        if (credentials.username === DEMO_USER && credentials.password === DEMO_PASS) return callback(null, { user: credentials.username });
        callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
      },
      onMailFrom(address, session, callback) {
        const reply = options.onMailFrom?.(address.address, session);
        callback(reply ? Object.assign(new Error(reply.message), { responseCode: reply.code }) : undefined);
      },
      onRcptTo(address, session, callback) {
        const reply = options.onRcptTo?.(address.address, session);
        callback(reply ? Object.assign(new Error(reply.message), { responseCode: reply.code }) : undefined);
      },
      onData(stream, _session, callback) {
        stream.on('end', () => callback());
        stream.resume();
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return {
      port: (server.server.address() as AddressInfo).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  return { cert, start };
}
