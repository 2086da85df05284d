/**
 * The retry contract, fault by fault, against the fault-injecting server.
 *
 * Each row injects one fault on the FIRST attempt only (or, in the persistent
 * table, on every attempt) and checks what the caller gets and what the server
 * saw:
 * - a retryable failure is retried and the message is delivered exactly once
 *   (acknowledged 1; received 1, or 2 when the first body was explicitly
 *   refused after the dot);
 * - a 5xx is never retried: one connection, one attempt, the typed error with
 *   nodemailer's code / responseCode / command;
 * - a dot that got no reply is not resent: DeliveryUnknownError, the body
 *   received once, unless resendOnUnknownDelivery is set.
 */
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { resilient } from '../../src/index.js';
import {
  startFaultServer,
  type FaultAction,
  type FaultPhase,
  type FaultRule,
  type FaultServer,
  type FaultServerOptions,
} from '../helpers/fault-server.js';

type ErrorName =
  | 'ConnectionError'
  | 'TlsError'
  | 'AuthError'
  | 'HeloRejectedError'
  | 'SenderRejectedError'
  | 'RecipientsRejectedError'
  | 'MessageRejectedError'
  | 'DeliveryUnknownError'
  | 'CircuitOpenError';

interface TypedError extends Error {
  name: ErrorName;
  retryable: boolean;
  attempts: number;
  code?: string;
  responseCode?: number;
  command?: string;
}

const RETRIES = 2;

const servers: FaultServer[] = [];
const transports: { close(): void }[] = [];

afterEach(async () => {
  for (const transport of transports.splice(0)) transport.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/**
 * About 8 MB. On loopback the kernel takes up to ~4 MB of a body (the client's send buffer
 * plus the server's receive buffer) before the server reads it: with a 2 MB body the client
 * has written the final dot before the 'body' fault fires, and DeliveryUnknownError is right.
 * Twice that margin keeps the client mid-body.
 */
const BIG_TEXT = `${'x'.repeat(75)}\n`.repeat(110_000);

let sequence = 0;
function message(phase?: FaultPhase) {
  sequence += 1;
  return {
    from: 'sender@example.com',
    to: 'rcpt@example.com',
    subject: `matrix ${sequence}`,
    text: phase === 'body' ? BIG_TEXT : 'Hello.\n.a line that starts with a dot\n',
    messageId: `<matrix.${sequence}.${Date.now()}@fault.test>`,
  };
}

interface Setup {
  faults: FaultRule | FaultRule[];
  pool?: boolean;
  pipelining?: boolean;
  resendOnUnknownDelivery?: boolean;
  /** Authenticate (the server then requires AUTH). */
  auth?: boolean;
  /** More SMTP options (timeouts). */
  smtp?: Record<string, unknown>;
}

async function setUp(setup: Setup) {
  const serverOptions: FaultServerOptions = {
    faults: setup.faults,
    ...(setup.pipelining ? { pipelining: true } : {}),
    ...(setup.auth ? { auth: { user: 'user', pass: 'secret' } } : {}),
  };
  const server = await startFaultServer(serverOptions);
  servers.push(server);
  /** Retry events per Message-ID: attempts = retries seen + 1. */
  const retries = new Map<string, number>();
  const transport = nodemailer.createTransport(
    resilient({
      host: server.host,
      port: server.port,
      secure: false,
      ignoreTLS: true,
      name: 'client.example.com',
      retry: { retries: RETRIES, minTimeout: 5, maxTimeout: 20 },
      breaker: false,
      ...(setup.pool ? { pool: true, maxConnections: 1 } : {}),
      ...(setup.auth ? { auth: { user: 'user', pass: 'secret' } } : {}),
      ...(setup.resendOnUnknownDelivery ? { resendOnUnknownDelivery: true } : {}),
      ...setup.smtp,
      onRetry: ({ messageId }) => {
        const id = (messageId ?? '').replace(/[<>]/g, '');
        retries.set(id, (retries.get(id) ?? 0) + 1);
      },
    }),
  );
  transports.push(transport);
  const attemptsOf = (messageId: string) => (retries.get(messageId.replace(/[<>]/g, '')) ?? 0) + 1;
  return { server, transport, attemptsOf };
}

async function outcomeOf(promise: Promise<unknown>): Promise<{ info?: unknown; err?: TypedError }> {
  try {
    return { info: await promise };
  } catch (err) {
    return { err: err as TypedError };
  }
}

const r = (reply: string): FaultAction => ({ reply });
const label = (action: FaultAction) => (typeof action === 'string' ? action : action.reply);

// ---- faults on the first attempt only ---------------------------------------------------------

interface Row {
  phase: FaultPhase;
  action: FaultAction;
  /** 'delivered', or the typed error the caller gets. */
  outcome: 'delivered' | ErrorName;
  /** nodemailer's fields, as the typed error must keep them (error rows). */
  code?: string;
  responseCode?: number;
  command?: string;
  /** Complete bodies the server received for the message. */
  received: number;
  /** What the error says a later retry could do (error rows; false unless set). */
  retryable?: boolean;
}

/** Retried once, then delivered: two connections, acknowledged once. */
const delivered = (phase: FaultPhase, action: FaultAction, received = 1): Row => ({ phase, action, outcome: 'delivered', received });

/** Not retried: one connection, one attempt, retryable false. */
const refused = (phase: FaultPhase, action: FaultAction, outcome: ErrorName, nodemailerFields: Pick<Row, 'code' | 'responseCode' | 'command'>, received = 0): Row => ({
  phase,
  action,
  outcome,
  ...nodemailerFields,
  received,
});

const FIRST_ATTEMPT_TABLE: Row[] = [
  delivered('connect', 'drop'),
  delivered('greeting', 'drop'),
  delivered('greeting', r('421 4.3.2 Too busy, closing')),
  delivered('greeting', r('451 4.3.0 Try again later')),
  // The contract names no class for a refused banner; ConnectionError by its doc comment (the server would not serve us).
  refused('greeting', r('554 5.3.2 No SMTP service here'), 'ConnectionError', { code: 'EPROTOCOL', responseCode: 554, command: 'CONN' }),
  delivered('ehlo', 'drop'),
  delivered('ehlo', r('421 4.3.2 Closing')),
  delivered('ehlo', r('451 4.3.0 Try again later')),
  refused('ehlo', r('550 5.7.1 Bad HELO name'), 'HeloRejectedError', { code: 'EPROTOCOL', responseCode: 550, command: 'HELO' }),
  delivered('auth', 'drop'),
  delivered('auth', r('421 4.3.2 Closing')),
  delivered('auth', r('454 4.7.0 Temporary authentication failure')),
  refused('auth', r('535 5.7.8 Authentication credentials invalid'), 'AuthError', { code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' }),
  delivered('mail', 'drop'),
  delivered('mail', r('421 4.3.2 Closing')),
  delivered('mail', r('450 4.7.1 Greylisted')),
  delivered('mail', r('451 4.3.0 Try again later')),
  delivered('mail', r('452 4.3.1 Insufficient system storage')),
  refused('mail', r('550 5.7.1 Sender rejected'), 'SenderRejectedError', { code: 'EENVELOPE', responseCode: 550, command: 'MAIL FROM' }),
  refused('mail', r('553 5.1.8 Sender domain unverified'), 'SenderRejectedError', { code: 'EENVELOPE', responseCode: 553, command: 'MAIL FROM' }),
  delivered('rcpt', 'drop'),
  delivered('rcpt', r('421 4.3.2 Closing')),
  delivered('rcpt', r('450 4.2.1 Mailbox busy')),
  delivered('rcpt', r('451 4.3.0 Try again later')),
  delivered('rcpt', r('452 4.5.3 Too many recipients')),
  refused('rcpt', r('550 5.1.1 No such user'), 'RecipientsRejectedError', { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }),
  refused('rcpt', r('554 5.7.1 Recipient address rejected by policy'), 'RecipientsRejectedError', { code: 'EENVELOPE', responseCode: 554, command: 'RCPT TO' }),
  delivered('data', 'drop'),
  delivered('data', r('421 4.3.2 Closing')),
  delivered('data', r('451 4.3.0 Try again later')),
  delivered('data', r('452 4.3.1 Insufficient system storage')),
  refused('data', r('554 5.5.1 Transaction failed'), 'MessageRejectedError', { code: 'EENVELOPE', responseCode: 554, command: 'DATA' }),
  // a drop in the middle of the body is safe to retry: the final dot was never written (8 MB body, see BIG_TEXT)
  delivered('body', 'drop'),
  delivered('body', r('421 4.3.2 Closing')),
  delivered('body', r('451 4.3.0 Try again later')),
  refused('body', r('552 5.3.4 Message too big'), 'MessageRejectedError', { code: 'EMESSAGE', responseCode: 552, command: 'DATA' }),
  // the dot was written and nothing came back: not resent
  refused('dot', 'drop', 'DeliveryUnknownError', { code: 'ECONNECTION', command: 'CONN' }, 1),
  // an explicit 4xx after the dot means "not taken": resent, so the server sees the body twice and acknowledges it once
  delivered('dot', r('421 4.3.2 Closing'), 2),
  delivered('dot', r('450 4.7.1 Try again later'), 2),
  delivered('dot', r('451 4.3.0 Try again later'), 2),
  delivered('dot', r('452 4.3.1 Insufficient system storage'), 2),
  refused('dot', r('550 5.7.1 Message rejected as spam'), 'MessageRejectedError', { code: 'EMESSAGE', responseCode: 550, command: 'DATA' }, 1),
  refused('dot', r('552 5.3.4 Message too big'), 'MessageRejectedError', { code: 'EMESSAGE', responseCode: 552, command: 'DATA' }, 1),
  refused('dot', r('554 5.7.1 Message rejected'), 'MessageRejectedError', { code: 'EMESSAGE', responseCode: 554, command: 'DATA' }, 1),
  // "never a 5xx", whatever the reply text says: not resent here, but marked retryable so a queue may try much later
  { ...refused('dot', r('554 5.7.1 Temporarily rejected, try again later'), 'MessageRejectedError', { code: 'EMESSAGE', responseCode: 554, command: 'DATA' }, 1), retryable: true },
  { ...refused('mail', r('550 5.7.1 Service temporarily unavailable'), 'SenderRejectedError', { code: 'EENVELOPE', responseCode: 550, command: 'MAIL FROM' }), retryable: true },
];

const titled = <T extends { action: FaultAction }>(row: T) => ({ ...row, fault: label(row.action) });

/**
 * nodemailer before 10 reads the whole message stream into a socket the
 * server has already dropped before it reports the error, so resilient()
 * cannot tell a mid-body drop from one after the final dot: it reports
 * DeliveryUnknownError (conservative: never a duplicate). Those rows are
 * checked apart on nodemailer 6-9.
 */
const NODEMAILER_MAJOR = Number(
  String((nodemailer.createTransport({ jsonTransport: true }) as unknown as { transporter: { version: string } }).transporter.version).split('.')[0],
);
const isBodyDrop = (row: { phase: FaultPhase; action: FaultAction }) => row.phase === 'body' && row.action === 'drop';
const forThisNodemailer = <T extends { phase: FaultPhase; action: FaultAction }>(rows: T[]) => (NODEMAILER_MAJOR >= 10 ? rows : rows.filter((row) => !isBodyDrop(row)));

// Registered only where it applies (the 6.9 run of CI), so no test is skipped.
if (NODEMAILER_MAJOR < 10) describe('a mid-body drop on nodemailer 6-9', () => {
  it.each([false, true])('ends as DeliveryUnknownError, never resent and never duplicated (pool: %s)', async (pool) => {
    const { server, transport } = await setUp({ faults: { phase: 'body', action: 'drop', times: Infinity }, pool });
    const mail = message('body');
    const { err } = await outcomeOf(transport.sendMail(mail));
    expect(err).toMatchObject({ name: 'DeliveryUnknownError', retryable: false, attempts: 1 });
    expect(server.counts(mail.messageId)).toEqual({ received: 0, acknowledged: 0 });
    expect(server.connections).toBe(1);
  });
});

async function checkFirstAttemptRow(row: Row, setup: Omit<Setup, 'faults'> = {}) {
  const { server, transport, attemptsOf } = await setUp({ faults: { phase: row.phase, action: row.action }, auth: row.phase === 'auth', ...setup });
  const mail = message(row.phase);
  const { info, err } = await outcomeOf(transport.sendMail(mail));
  const counts = server.counts(mail.messageId);

  if (row.outcome === 'delivered') {
    expect(err, `expected delivery, got ${err?.name}: ${err?.message}`).toBeUndefined();
    expect(info).toMatchObject({ messageId: mail.messageId });
    expect(counts).toEqual({ received: row.received, acknowledged: 1 });
    expect(attemptsOf(mail.messageId)).toBe(2);
    if (!setup.pool) expect(server.connections).toBe(2);
    return;
  }
  expect(info, 'expected a typed error, the send resolved').toBeUndefined();
  expect(err).toMatchObject({ name: row.outcome, retryable: row.retryable ?? false, attempts: 1 });
  expect(err?.code).toBe(row.code);
  expect(err?.responseCode).toBe(row.responseCode);
  expect(err?.command).toBe(row.command);
  expect(counts).toEqual({ received: row.received, acknowledged: 0 });
  expect(server.connections).toBe(1);
}

describe('a fault on the first attempt only', () => {
  it.each(forThisNodemailer(FIRST_ATTEMPT_TABLE).map(titled))('$phase + $fault ends as $outcome', async (row) => {
    await checkFirstAttemptRow(row);
  });
});

describe('a fault on the first attempt, with a pipelining server', () => {
  const rows = FIRST_ATTEMPT_TABLE.filter((row) => ['mail', 'rcpt', 'data'].includes(row.phase));
  it.each(rows.map(titled))('$phase + $fault ends as $outcome', async (row) => {
    // With PIPELINING, nodemailer reports a 421 to RCPT as ECONNECTION/CONN; the outcome is the same.
    await checkFirstAttemptRow(row, { pipelining: true });
  });
});

// ---- DeliveryUnknown and its opt-in ----------------------------------------------------------

describe('a dot that got no reply', () => {
  it('is not resent by default: the caller gets DeliveryUnknownError and the body was received once', async () => {
    const { server, transport } = await setUp({ faults: { phase: 'dot', action: 'drop' } });
    const mail = message();
    const { err } = await outcomeOf(transport.sendMail(mail));

    expect(err).toMatchObject({ name: 'DeliveryUnknownError', retryable: false, attempts: 1 });
    expect(server.counts(mail.messageId)).toEqual({ received: 1, acknowledged: 0 });
    expect(server.connections).toBe(1);
  });

  it('is resent with resendOnUnknownDelivery, and then acknowledged once', async () => {
    const { server, transport, attemptsOf } = await setUp({ faults: { phase: 'dot', action: 'drop' }, resendOnUnknownDelivery: true });
    const mail = message();
    await transport.sendMail(mail);

    expect(server.counts(mail.messageId)).toEqual({ received: 2, acknowledged: 1 });
    expect(attemptsOf(mail.messageId)).toBe(2);
    expect(server.connections).toBe(2);
  });

  it('ends as a retryable DeliveryUnknownError after every attempt when resendOnUnknownDelivery is set and it keeps happening', async () => {
    const { server, transport } = await setUp({ faults: { phase: 'dot', action: 'drop', times: Infinity }, resendOnUnknownDelivery: true });
    const mail = message();
    const { err } = await outcomeOf(transport.sendMail(mail));

    expect(err).toMatchObject({ name: 'DeliveryUnknownError', retryable: true, attempts: RETRIES + 1 });
    expect(server.counts(mail.messageId)).toEqual({ received: RETRIES + 1, acknowledged: 0 });
  });
});

// ---- timeouts -----------------------------------------------------------------------------------

describe('a server that stops answering on the first attempt', () => {
  // short timeouts so the client gives up quickly; nothing here asserts how long it took
  const TIMEOUTS = { greetingTimeout: 300, socketTimeout: 300 };
  const STALL_ROWS: Row[] = [
    delivered('greeting', 'stall'),
    delivered('mail', 'stall'),
    delivered('data', 'stall'),
    refused('dot', 'stall', 'DeliveryUnknownError', { code: 'ETIMEDOUT', command: 'CONN' }, 1),
  ];

  it.each(STALL_ROWS.map(titled))('$phase + $fault ends as $outcome', async (row) => {
    await checkFirstAttemptRow(row, { smtp: TIMEOUTS });
  });
});

// ---- faults on every attempt -------------------------------------------------------------------

interface PersistentRow {
  phase: FaultPhase;
  action: FaultAction;
  outcome: ErrorName;
  code: string;
  responseCode?: number;
  command: string;
}

/** Retryable failures that never clear: the last error says retryable, after every attempt. */
const PERSISTENT_TABLE: PersistentRow[] = [
  { phase: 'connect', action: 'drop', outcome: 'ConnectionError', code: 'ECONNECTION', command: 'CONN' },
  { phase: 'greeting', action: r('421 4.3.2 Too busy'), outcome: 'ConnectionError', code: 'EPROTOCOL', responseCode: 421, command: 'CONN' },
  { phase: 'ehlo', action: r('451 4.3.0 Try again later'), outcome: 'HeloRejectedError', code: 'EPROTOCOL', responseCode: 451, command: 'HELO' },
  { phase: 'auth', action: r('454 4.7.0 Temporary authentication failure'), outcome: 'AuthError', code: 'EAUTH', responseCode: 454, command: 'AUTH PLAIN' },
  { phase: 'mail', action: r('451 4.3.0 Try again later'), outcome: 'SenderRejectedError', code: 'EENVELOPE', responseCode: 451, command: 'MAIL FROM' },
  { phase: 'mail', action: r('421 4.3.2 Closing'), outcome: 'ConnectionError', code: 'EENVELOPE', responseCode: 421, command: 'MAIL FROM' },
  { phase: 'rcpt', action: r('450 4.2.1 Mailbox busy'), outcome: 'RecipientsRejectedError', code: 'EENVELOPE', responseCode: 450, command: 'RCPT TO' },
  { phase: 'data', action: r('451 4.3.0 Try again later'), outcome: 'MessageRejectedError', code: 'EENVELOPE', responseCode: 451, command: 'DATA' },
  { phase: 'body', action: 'drop', outcome: 'ConnectionError', code: 'ESOCKET', command: 'CONN' },
  { phase: 'dot', action: r('451 4.3.0 Try again later'), outcome: 'MessageRejectedError', code: 'EMESSAGE', responseCode: 451, command: 'DATA' },
];

describe('a retryable fault on every attempt', () => {
  it.each(forThisNodemailer(PERSISTENT_TABLE).map(titled))('$phase + $fault ends as a retryable $outcome after every attempt', async (row) => {
    const { server, transport } = await setUp({ faults: { phase: row.phase, action: row.action, times: Infinity }, auth: row.phase === 'auth' });
    const mail = message(row.phase);
    const { err } = await outcomeOf(transport.sendMail(mail));

    expect(err).toMatchObject({ name: row.outcome, retryable: true, attempts: RETRIES + 1 });
    expect(err?.code).toBe(row.code);
    expect(err?.responseCode).toBe(row.responseCode);
    // nodemailer 6-9 report a socket closed before the greeting as "Unexpected socket close", with no command
    expect(err?.command).toBe(NODEMAILER_MAJOR < 10 && row.phase === 'connect' ? undefined : row.command);
    expect(server.connections).toBe(RETRIES + 1);
    expect(server.counts(mail.messageId).acknowledged).toBe(0);
  });
});

// ---- pooled -------------------------------------------------------------------------------------

describe('with pool: true', () => {
  const POOL_ROWS: Row[] = [
    delivered('connect', 'drop'),
    delivered('mail', r('451 4.3.0 Try again later')),
    delivered('rcpt', r('421 4.3.2 Closing')),
    delivered('body', 'drop'),
    delivered('dot', r('451 4.3.0 Try again later'), 2),
    refused('rcpt', r('550 5.1.1 No such user'), 'RecipientsRejectedError', { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }),
    refused('dot', r('554 5.7.1 Message rejected'), 'MessageRejectedError', { code: 'EMESSAGE', responseCode: 554, command: 'DATA' }, 1),
    refused('dot', 'drop', 'DeliveryUnknownError', { code: 'ECONNECTION', command: 'CONN' }, 1),
  ];

  it.each(forThisNodemailer(POOL_ROWS).map(titled))('$phase + $fault ends as $outcome', async (row) => {
    await checkFirstAttemptRow(row, { pool: true });
  });

  it('delivers every other message of a pooled batch exactly once when one of them gets no reply after its dot', async () => {
    const mails = Array.from({ length: 6 }, () => message());
    const victim = mails[2]!;
    const { server, transport } = await setUp({ faults: { phase: 'dot', messageId: victim.messageId, action: 'drop' }, pool: true });
    const outcomes = await Promise.all(mails.map((mail) => outcomeOf(transport.sendMail(mail))));

    mails.forEach((mail, i) => {
      if (mail === victim) {
        expect(outcomes[i]?.err).toMatchObject({ name: 'DeliveryUnknownError', retryable: false });
        expect(server.counts(mail.messageId)).toEqual({ received: 1, acknowledged: 0 });
      } else {
        expect(outcomes[i]?.err).toBeUndefined();
        expect(server.counts(mail.messageId)).toEqual({ received: 1, acknowledged: 1 });
      }
    });
  });
});
