/**
 * Proves the fault-injecting SMTP server against plain nodemailer, before it is
 * used to test the library: each fault makes nodemailer report the code,
 * responseCode and command recorded here, and the server counts what it
 * received and acknowledged.
 */
import net from 'node:net';
import { Readable } from 'node:stream';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startFaultServer,
  type FaultAction,
  type FaultPhase,
  type FaultServer,
  type FaultServerOptions,
} from '../helpers/fault-server.js';

const servers: FaultServer[] = [];
const transports: { close(): void }[] = [];

afterEach(async () => {
  for (const transport of transports.splice(0)) transport.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(options: FaultServerOptions = {}): Promise<FaultServer> {
  const server = await startFaultServer(options);
  servers.push(server);
  return server;
}

function plainTransport(server: FaultServer, extra: Partial<SMTPPool.Options> = {}): Transporter {
  // SMTPPool.Options is SMTPTransport.Options plus the pool's own settings
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: server.port,
    secure: false,
    ignoreTLS: true,
    name: 'client.example.com',
    ...extra,
  });
  transports.push(transport);
  return transport;
}

/** About 8 MB: twice what loopback socket buffers absorb (~4 MB), so the client is still writing when a 'body' fault fires. */
const BIG_TEXT = `${'x'.repeat(75)}\n`.repeat(110_000);

let sequence = 0;
function message(overrides: Record<string, unknown> = {}) {
  sequence += 1;
  return {
    from: 'sender@example.com',
    to: 'rcpt@example.com',
    subject: `message ${sequence}`,
    text: 'Hello.\n',
    messageId: `<m${sequence}.${Date.now()}@fault.test>`,
    ...overrides,
  };
}

interface Reported {
  code?: string;
  responseCode?: number;
  command?: string;
  originalCode?: string;
}

async function sendExpectingError(transport: Transporter, mail: Record<string, unknown>): Promise<Reported> {
  try {
    await transport.sendMail(mail);
  } catch (err) {
    return err as Reported;
  }
  throw new Error('the message was delivered, a failure was expected');
}

const r = (reply: string): FaultAction => ({ reply });

describe('a fault-free session', () => {
  it('delivers a message and counts it as received and acknowledged once', async () => {
    const server = await serve();
    const mail = message({ to: ['one@example.com', 'two@example.com'] });
    const info = await plainTransport(server).sendMail(mail);

    expect(info.response).toMatch(/^250 /);
    expect(info.accepted).toEqual(['one@example.com', 'two@example.com']);
    expect(server.counts(mail.messageId)).toEqual({ received: 1, acknowledged: 1 });
    expect(server.stats.recipients.get('two@example.com')).toEqual({ received: 1, acknowledged: 1 });
    expect(server.connections).toBe(1);
    expect(server.stats.faults).toEqual([]);
  });

  it('removes the dot the client stuffed in front of lines that start with one', async () => {
    const server = await serve();
    await plainTransport(server).sendMail(message({ text: '.first\nmiddle\n..second\n.\nlast\n' }));

    const body = server.stats.receipts[0]?.body.toString('utf8') ?? '';
    expect(body).toContain('\r\n.first\r\nmiddle\r\n..second\r\n.\r\nlast\r\n');
  });

  it('accepts a message whose body is empty', async () => {
    const server = await serve();
    const mail = message({ text: '' });
    await plainTransport(server).sendMail(mail);

    expect(server.counts(mail.messageId)).toEqual({ received: 1, acknowledged: 1 });
  });

  it('serves several messages on one pooled connection', async () => {
    const server = await serve();
    const transport = plainTransport(server, { pool: true, maxConnections: 1 });
    const mails = [message(), message(), message()];
    await Promise.all(mails.map((mail) => transport.sendMail(mail)));

    expect(server.connections).toBe(1);
    for (const mail of mails) expect(server.counts(mail.messageId)).toEqual({ received: 1, acknowledged: 1 });
  });

  it('delivers to a client that pipelines MAIL, RCPT and DATA when PIPELINING is advertised', async () => {
    const server = await serve({ pipelining: true, transcript: true });
    const mail = message({ to: ['one@example.com', 'two@example.com'] });
    await plainTransport(server).sendMail(mail);

    expect(server.transcript).toContain('#1 S: 250-PIPELINING');
    expect(server.counts(mail.messageId)).toEqual({ received: 1, acknowledged: 1 });
  });

  it('keeps a transcript of the session with the credentials hidden', async () => {
    const server = await serve({ transcript: true, auth: true });
    await plainTransport(server, { auth: { user: 'user', pass: 'secret' } }).sendMail(message());

    const transcript = server.transcript ?? [];
    expect(transcript[0]).toBe('#1 S: 220 fault.example.com ESMTP fault-server');
    expect(transcript).toContain('#1 C: EHLO client.example.com');
    expect(transcript).toContain('#1 S: 250 AUTH PLAIN LOGIN');
    expect(transcript).toContain('#1 C: AUTH PLAIN <secret>');
    expect(transcript.join('\n')).not.toContain(Buffer.from('\u0000user\u0000secret').toString('base64'));
  });
});

describe('authentication', () => {
  it('accepts the configured credentials over AUTH PLAIN', async () => {
    const server = await serve({ auth: { user: 'user', pass: 'secret' } });
    const mail = message();
    await plainTransport(server, { auth: { user: 'user', pass: 'secret' } }).sendMail(mail);

    expect(server.counts(mail.messageId).acknowledged).toBe(1);
  });

  it('accepts the configured credentials over AUTH LOGIN', async () => {
    const server = await serve({ auth: { user: 'user', pass: 'secret' }, transcript: true });
    const mail = message();
    await plainTransport(server, { auth: { user: 'user', pass: 'secret' }, authMethod: 'LOGIN' }).sendMail(mail);

    expect(server.counts(mail.messageId).acknowledged).toBe(1);
    expect(server.transcript).toContain('#1 C: AUTH LOGIN <secret>');
  });

  it('refuses wrong credentials with 535', async () => {
    const server = await serve({ auth: { user: 'user', pass: 'secret' } });
    const err = await sendExpectingError(plainTransport(server, { auth: { user: 'user', pass: 'wrong' } }), message());

    expect(err).toMatchObject({ code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' });
  });

  it('refuses MAIL FROM with 530 when the client did not authenticate', async () => {
    const server = await serve({ auth: true });
    const err = await sendExpectingError(plainTransport(server), message());

    expect(err).toMatchObject({ code: 'EENVELOPE', responseCode: 530, command: 'MAIL FROM' });
  });
});

/**
 * What plain nodemailer reports for each fault on a server that does not
 * advertise PIPELINING. `received` is the server's count of complete bodies.
 */
interface FaultRow {
  phase: FaultPhase;
  action: FaultAction;
  code: string;
  responseCode?: number;
  command: string;
  received: 0 | 1;
}

const FAULT_TABLE: FaultRow[] = [
  { phase: 'connect', action: 'drop', code: 'ECONNECTION', command: 'CONN', received: 0 },
  { phase: 'greeting', action: 'drop', code: 'ECONNECTION', command: 'CONN', received: 0 },
  { phase: 'greeting', action: r('421 4.3.2 Too busy, closing'), code: 'EPROTOCOL', responseCode: 421, command: 'CONN', received: 0 },
  { phase: 'greeting', action: r('451 4.3.0 Try again later'), code: 'EPROTOCOL', responseCode: 451, command: 'CONN', received: 0 },
  { phase: 'greeting', action: r('554 5.7.1 No SMTP service here'), code: 'EPROTOCOL', responseCode: 554, command: 'CONN', received: 0 },
  { phase: 'ehlo', action: 'drop', code: 'ECONNECTION', command: 'CONN', received: 0 },
  { phase: 'ehlo', action: r('421 4.3.2 Closing'), code: 'ECONNECTION', responseCode: 421, command: 'EHLO', received: 0 },
  { phase: 'ehlo', action: r('451 4.3.0 Try again later'), code: 'EPROTOCOL', responseCode: 451, command: 'HELO', received: 0 },
  { phase: 'ehlo', action: r('550 5.7.1 Bad HELO name'), code: 'EPROTOCOL', responseCode: 550, command: 'HELO', received: 0 },
  { phase: 'auth', action: 'drop', code: 'ECONNECTION', command: 'CONN', received: 0 },
  { phase: 'auth', action: r('421 4.3.2 Closing'), code: 'EAUTH', responseCode: 421, command: 'AUTH PLAIN', received: 0 },
  { phase: 'auth', action: r('454 4.7.0 Temporary authentication failure'), code: 'EAUTH', responseCode: 454, command: 'AUTH PLAIN', received: 0 },
  { phase: 'auth', action: r('535 5.7.8 Authentication credentials invalid'), code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN', received: 0 },
  { phase: 'mail', action: 'drop', code: 'ECONNECTION', command: 'CONN', received: 0 },
  { phase: 'mail', action: r('421 4.3.2 Closing'), code: 'EENVELOPE', responseCode: 421, command: 'MAIL FROM', received: 0 },
  { phase: 'mail', action: r('451 4.3.0 Try again later'), code: 'EENVELOPE', responseCode: 451, command: 'MAIL FROM', received: 0 },
  { phase: 'mail', action: r('452 4.3.1 Insufficient system storage'), code: 'EENVELOPE', responseCode: 452, command: 'MAIL FROM', received: 0 },
  { phase: 'mail', action: r('550 5.7.1 Sender rejected'), code: 'EENVELOPE', responseCode: 550, command: 'MAIL FROM', received: 0 },
  { phase: 'mail', action: r('553 5.1.8 Sender domain unverified'), code: 'EENVELOPE', responseCode: 553, command: 'MAIL FROM', received: 0 },
  { phase: 'rcpt', action: 'drop', code: 'ECONNECTION', command: 'CONN', received: 0 },
  { phase: 'rcpt', action: r('421 4.3.2 Closing'), code: 'EENVELOPE', responseCode: 421, command: 'RCPT TO', received: 0 },
  { phase: 'rcpt', action: r('450 4.2.1 Mailbox busy'), code: 'EENVELOPE', responseCode: 450, command: 'RCPT TO', received: 0 },
  { phase: 'rcpt', action: r('452 4.5.3 Too many recipients'), code: 'EENVELOPE', responseCode: 452, command: 'RCPT TO', received: 0 },
  { phase: 'rcpt', action: r('550 5.1.1 No such user'), code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', received: 0 },
  { phase: 'data', action: 'drop', code: 'ECONNECTION', command: 'CONN', received: 0 },
  { phase: 'data', action: r('421 4.3.2 Closing'), code: 'EENVELOPE', responseCode: 421, command: 'DATA', received: 0 },
  { phase: 'data', action: r('451 4.3.0 Try again later'), code: 'EENVELOPE', responseCode: 451, command: 'DATA', received: 0 },
  { phase: 'data', action: r('554 5.5.1 No valid recipients'), code: 'EENVELOPE', responseCode: 554, command: 'DATA', received: 0 },
  { phase: 'body', action: 'drop', code: 'ESOCKET', command: 'CONN', received: 0 },
  { phase: 'body', action: r('421 4.3.2 Closing'), code: 'EMESSAGE', responseCode: 421, command: 'DATA', received: 0 },
  { phase: 'body', action: r('552 5.3.4 Message too big'), code: 'EMESSAGE', responseCode: 552, command: 'DATA', received: 0 },
  { phase: 'dot', action: 'drop', code: 'ECONNECTION', command: 'CONN', received: 1 },
  { phase: 'dot', action: r('421 4.3.2 Closing'), code: 'EMESSAGE', responseCode: 421, command: 'DATA', received: 1 },
  { phase: 'dot', action: r('451 4.3.0 Try again later'), code: 'EMESSAGE', responseCode: 451, command: 'DATA', received: 1 },
  { phase: 'dot', action: r('552 5.3.4 Message too big'), code: 'EMESSAGE', responseCode: 552, command: 'DATA', received: 1 },
  { phase: 'dot', action: r('554 5.7.1 Spam'), code: 'EMESSAGE', responseCode: 554, command: 'DATA', received: 1 },
];

const label = (action: FaultAction) => (typeof action === 'string' ? action : action.reply);
const titled = (row: FaultRow) => ({ ...row, fault: label(row.action) });

async function runFaultRow(row: FaultRow, pipelining: boolean) {
  const server = await serve({ faults: { phase: row.phase, action: row.action }, pipelining, ...(row.phase === 'auth' ? { auth: true as const } : {}) });
  const transport = plainTransport(server, row.phase === 'auth' ? { auth: { user: 'user', pass: 'secret' } } : {});
  const mail = message(row.phase === 'body' ? { text: BIG_TEXT } : {});
  const err = await sendExpectingError(transport, mail);
  return { server, mail, err };
}

describe('each fault, as plain nodemailer reports it', () => {
  it.each(FAULT_TABLE.map(titled))('$phase + $fault fails with $code / $responseCode / $command', async (row) => {
    const { server, mail, err } = await runFaultRow(row, false);

    expect(err.code).toBe(row.code);
    expect(err.responseCode).toBe(row.responseCode);
    expect(err.command).toBe(row.command);
    expect(server.counts(mail.messageId)).toEqual({ received: row.received, acknowledged: 0 });
    expect(server.connections).toBe(1);
    expect(server.stats.faults).toEqual([expect.objectContaining({ connection: 1, phase: row.phase, action: row.action })]);
  });
});

describe('each fault against a pipelining client', () => {
  // With PIPELINING, nodemailer reads a 421 to RCPT as the server closing the session
  // (the replies to the commands sent along with it never come), not as a refused recipient.
  const PIPELINED_TABLE = FAULT_TABLE.map((row): FaultRow =>
    row.phase === 'rcpt' && label(row.action).startsWith('421') ? { ...row, code: 'ECONNECTION', command: 'CONN' } : row,
  );

  it.each(PIPELINED_TABLE.map(titled))('$phase + $fault fails with $code / $responseCode / $command', async (row) => {
    const { server, mail, err } = await runFaultRow(row, true);

    expect(err.code).toBe(row.code);
    expect(err.responseCode).toBe(row.responseCode);
    expect(err.command).toBe(row.command);
    expect(server.counts(mail.messageId)).toEqual({ received: row.received, acknowledged: 0 });
  });
});

describe('fault details', () => {
  it('drops mid-body while the client is still writing the message', async () => {
    const server = await serve({ faults: { phase: 'body', action: 'drop' } });
    const total = 8 * 1024 * 1024;
    let produced = 0;
    const source = new Readable({
      read() {
        if (produced >= total) return void this.push(null);
        const chunk = `${'y'.repeat(1023)}\n`.repeat(64);
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const err = await sendExpectingError(plainTransport(server), message({ text: source }));

    expect(err.code).toBe('ESOCKET');
    // the source was not even read to its end, so the final "." was never written
    expect(produced).toBeLessThan(total);
    expect(server.stats.faults[0]?.bodyBytes).toBeGreaterThan(0);
    expect(server.stats.faults[0]?.bodyBytes).toBeLessThan(total);
    expect(server.stats.receipts).toEqual([]);
  });

  it('counts a body whose final dot got no reply as received but not acknowledged', async () => {
    const server = await serve({ faults: { phase: 'dot', action: 'drop' } });
    const mail = message();
    await sendExpectingError(plainTransport(server), mail);

    expect(server.stats.receipts).toEqual([
      expect.objectContaining({ messageId: mail.messageId.replace(/[<>]/g, ''), outcome: 'unanswered', connection: 1 }),
    ]);
    expect(server.counts(mail.messageId)).toEqual({ received: 1, acknowledged: 0 });
  });

  it('records a body refused after the dot with the reply it got', async () => {
    const server = await serve({ faults: { phase: 'dot', action: r('451 4.3.0 Try again later') } });
    await sendExpectingError(plainTransport(server), message());

    expect(server.stats.receipts[0]).toMatchObject({ outcome: 'refused', reply: '451 4.3.0 Try again later' });
  });

  it('stops answering on a stall, so the client times out', async () => {
    const server = await serve({ faults: { phase: 'greeting', action: 'stall' } });
    const err = await sendExpectingError(plainTransport(server, { greetingTimeout: 200 }), message());

    expect(err.code).toBe('ETIMEDOUT');
  });

  it('refuses only the filtered recipient and delivers to the others', async () => {
    const server = await serve({ faults: { phase: 'rcpt', recipient: 'bad@example.com', action: r('550 5.1.1 No such user') } });
    const mail = message({ to: ['good@example.com', 'bad@example.com'] });
    const info = await plainTransport(server).sendMail(mail);

    expect(info.accepted).toEqual(['good@example.com']);
    expect(info.rejected).toEqual(['bad@example.com']);
    expect(server.stats.recipients.get('good@example.com')).toEqual({ received: 1, acknowledged: 1 });
    expect(server.stats.recipients.has('bad@example.com')).toBe(false);
  });

  it('refuses every recipient of the transaction when the rcpt fault has no recipient filter', async () => {
    const server = await serve({ faults: { phase: 'rcpt', action: r('450 4.2.1 Mailbox busy') } });
    const err = await sendExpectingError(plainTransport(server), message({ to: ['a@example.com', 'b@example.com'] }));

    expect(err).toMatchObject({ code: 'EENVELOPE', responseCode: 450, command: 'RCPT TO' });
    expect((err as { rejected?: string[] }).rejected).toEqual(['a@example.com', 'b@example.com']);
    expect(server.stats.faults).toHaveLength(1);
  });
});

describe('fault plans', () => {
  it('fires a fault once by default, so the next connection is served', async () => {
    const server = await serve({ faults: { phase: 'mail', action: r('451 4.3.0 Try again later') } });
    const transport = plainTransport(server);
    await sendExpectingError(transport, message());
    const mail = message();
    await transport.sendMail(mail);

    expect(server.connections).toBe(2);
    expect(server.counts(mail.messageId)).toEqual({ received: 1, acknowledged: 1 });
  });

  it('fires a fault on as many connections as times says', async () => {
    const server = await serve({ faults: { phase: 'connect', action: 'drop', times: 2 } });
    const transport = plainTransport(server);
    await sendExpectingError(transport, message());
    await sendExpectingError(transport, message());
    await transport.sendMail(message());

    expect(server.connections).toBe(3);
    expect(server.stats.faults.map((f) => f.connection)).toEqual([1, 2]);
  });

  it('fires a fault every time when times is Infinity', async () => {
    const server = await serve({ faults: { phase: 'data', action: r('451 4.3.0 Try again later'), times: Infinity } });
    const transport = plainTransport(server);
    for (let i = 0; i < 4; i++) await sendExpectingError(transport, message());

    expect(server.stats.faults).toHaveLength(4);
  });

  it('fires a messageId fault only on that message of a pooled connection', async () => {
    const [first, second, third] = [message(), message(), message()];
    const server = await serve({ faults: { phase: 'dot', messageId: second.messageId, action: r('554 5.7.1 Spam') } });
    const transport = plainTransport(server, { pool: true, maxConnections: 1 });
    const results = await Promise.allSettled([first, second, third].map((mail) => transport.sendMail(mail)));

    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(server.connections).toBe(1);
    expect(server.counts(second.messageId)).toEqual({ received: 1, acknowledged: 0 });
    expect(server.counts(third.messageId)).toEqual({ received: 1, acknowledged: 1 });
  });

  it('applies the first matching rule of a list', async () => {
    const server = await serve({
      faults: [
        { phase: 'connect', action: 'drop' },
        { phase: 'rcpt', action: r('452 4.5.3 Too many recipients') },
      ],
    });
    const transport = plainTransport(server);
    expect((await sendExpectingError(transport, message())).code).toBe('ECONNECTION');
    expect((await sendExpectingError(transport, message())).responseCode).toBe(452);
    await transport.sendMail(message());
  });

  it('draws the same random faults for the same seed', async () => {
    const firedWith = async (seed: number) => {
      const server = await serve({ random: { rate: 0.5, seed } });
      const transport = plainTransport(server);
      for (let i = 0; i < 20; i++) await transport.sendMail(message()).catch(() => undefined);
      return server.stats.faults.map(({ connection, phase, action }) => `${connection}:${phase}:${label(action)}`);
    };
    const first = await firedWith(42);

    expect(first.length).toBeGreaterThan(0);
    expect(await firedWith(42)).toEqual(first);
    expect(await firedWith(7)).not.toEqual(first);
  });

  it('fails every connection at rate 1 and none at rate 0', async () => {
    const always = await serve({ random: { rate: 1, seed: 1, phases: ['mail'], actions: [r('451 4.3.0 Later')] } });
    const never = await serve({ random: { rate: 0, seed: 1 } });
    for (let i = 0; i < 5; i++) {
      await sendExpectingError(plainTransport(always), message());
      await plainTransport(never).sendMail(message());
    }

    expect(always.stats.faults).toHaveLength(5);
    expect(never.stats.faults).toHaveLength(0);
  });

  it('draws again for every further message on a pooled connection with per: message', async () => {
    const perConnection = await serve({ random: { rate: 1, seed: 3, phases: ['dot'], actions: [r('451 4.3.0 Later')] } });
    const perMessage = await serve({ random: { rate: 1, seed: 3, per: 'message', phases: ['dot'], actions: [r('451 4.3.0 Later')] } });
    for (const server of [perConnection, perMessage]) {
      const transport = plainTransport(server, { pool: true, maxConnections: 1 });
      await Promise.allSettled([message(), message(), message()].map((mail) => transport.sendMail(mail)));
    }

    expect(perConnection.connections).toBe(1);
    expect(perConnection.stats.faults).toHaveLength(1);
    expect(perMessage.connections).toBe(1);
    expect(perMessage.stats.faults).toHaveLength(3);
  });

  it('rejects a plan that cannot fire', async () => {
    await expect(startFaultServer({ faults: { phase: 'connect', action: r('421 busy') } })).rejects.toThrow(/greeting/);
    await expect(startFaultServer({ faults: { phase: 'mail', messageId: '<x@y>', action: 'drop' } })).rejects.toThrow(/messageId/);
    await expect(startFaultServer({ faults: { phase: 'dot', action: { reply: 'oops' } } })).rejects.toThrow(/bad fault action/);
  });
});

describe('the server side of a reply, seen from a raw socket', () => {
  /** Sends lines one by one, each after the previous reply, and collects what the server says until it closes. */
  async function converse(server: FaultServer, lines: string[]): Promise<{ replies: string[]; closedByServer: boolean }> {
    const socket = net.connect(server.port, '127.0.0.1');
    const replies: string[] = [];
    let buffer = '';
    let next = 0;
    return new Promise((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        buffer += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\r\n')) >= 0) {
          const reply = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 2);
          replies.push(reply);
          if (/^\d{3} /.test(reply)) {
            const line = lines[next++];
            if (line === undefined) {
              socket.end();
              resolve({ replies, closedByServer: false });
            } else socket.write(`${line}\r\n`);
          }
        }
      });
      socket.on('end', () => resolve({ replies, closedByServer: true }));
    });
  }

  it('closes the connection after a 421 reply', async () => {
    const server = await serve({ faults: { phase: 'mail', action: r('421 4.3.2 Closing') } });
    const { replies, closedByServer } = await converse(server, ['EHLO raw.example.com', 'MAIL FROM:<a@example.com>', 'NOOP']);

    expect(replies.at(-1)).toBe('421 4.3.2 Closing');
    expect(closedByServer).toBe(true);
  });

  it('keeps the connection open after another refusal', async () => {
    const server = await serve({ faults: { phase: 'mail', action: r('451 4.3.0 Try again later') } });
    const { replies, closedByServer } = await converse(server, ['EHLO raw.example.com', 'MAIL FROM:<a@example.com>', 'NOOP']);

    expect(replies.slice(-2)).toEqual(['451 4.3.0 Try again later', '250 2.0.0 OK']);
    expect(closedByServer).toBe(false);
  });

  it('answers commands out of sequence with 503', async () => {
    const server = await serve();
    const { replies } = await converse(server, ['EHLO raw.example.com', 'RCPT TO:<b@example.com>', 'DATA', 'QUIT']);

    expect(replies.filter((reply) => reply.startsWith('503'))).toHaveLength(2);
    expect(replies.at(-1)).toBe('221 2.0.0 Bye');
  });
});
