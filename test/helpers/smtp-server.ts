import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { testCertificate } from './certificate.js';

export interface ReceivedMessage {
  from: string;
  to: string[];
  /** The name the client gave at EHLO/HELO. */
  ehlo: string;
  secure: boolean;
  user: string | undefined;
  body: string;
  messageId: string | undefined;
}

export interface TestServer {
  port: number;
  /** TCP connections accepted so far (counts even those that never got further). */
  connections: number;
  messages: ReceivedMessage[];
  cert: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** 'implicit': TLS from the first byte (465-style); 'starttls': plaintext, STARTTLS offered; 'plain': no TLS at all. */
  tls?: 'implicit' | 'starttls' | 'plain';
  /** 'none': AUTH not offered; 'optional': offered, not needed; 'required'. */
  auth?: 'none' | 'optional' | 'required';
  user?: string;
  pass?: string;
  /** Reply to MAIL FROM with this error (e.g. `{ code: 550, message: '...' }`). */
  onMailFrom?: (address: string, session: SMTPServerSession) => { code: number; message: string } | undefined;
  onRcptTo?: (address: string, session: SMTPServerSession) => { code: number; message: string } | undefined;
  extra?: Partial<SMTPServerOptions>;
}

function smtpError(reply: { code: number; message: string }): Error {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}

/** A real smtp-server on 127.0.0.1, port 0, with a certificate the test made. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { key, cert } = await testCertificate();
  const tls = options.tls ?? 'starttls';
  const auth = options.auth ?? 'none';
  const messages: ReceivedMessage[] = [];
  const disabled: string[] = [];
  if (tls === 'plain') disabled.push('STARTTLS');
  if (auth === 'none') disabled.push('AUTH');
  const state = { connections: 0 };
  const server = new SMTPServer({
    secure: tls === 'implicit',
    key,
    cert,
    logger: false,
    // No reverse DNS: tests send no traffic off the machine.
    disableReverseLookup: true,
    disabledCommands: disabled,
    authOptional: auth !== 'required',
    allowInsecureAuth: true,
    onConnect(_session, callback) {
      state.connections++;
      callback();
    },
    onAuth(credentials, _session, callback) {
      if (credentials.username === (options.user ?? 'user') && credentials.password === (options.pass ?? 'pass')) {
        callback(null, { user: credentials.username });
      } else {
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      }
    },
    onMailFrom(address, session, callback) {
      const reply = options.onMailFrom?.(address.address, session);
      callback(reply ? smtpError(reply) : undefined);
    },
    onRcptTo(address, session, callback) {
      const reply = options.onRcptTo?.(address.address, session);
      callback(reply ? smtpError(reply) : undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          ehlo: session.hostNameAppearsAs,
          secure: session.secure,
          user: session.user as string | undefined,
          body,
          messageId: /^Message-ID:\s*(<[^>]+>)/im.exec(body)?.[1],
        });
        callback();
      });
    },
    ...options.extra,
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    get connections() {
      return state.connections;
    },
    messages,
    cert,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
