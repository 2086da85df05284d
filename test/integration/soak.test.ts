/**
 * A seeded soak: 1,000 messages, 20 in flight, through the library to a server
 * where 20% of connections (and of further messages on a pooled connection)
 * fail at a random phase. It checks that nothing is
 * lost and nothing is delivered twice, and prints the figures.
 *
 * - lost: a send that never settles, that resolves without the server having
 *   acknowledged the message, or that rejects with something other than one
 *   of the library's typed errors;
 * - duplicate: a Message-ID acknowledged twice, or a body received again after
 *   a receipt that was acknowledged or got no reply at all (with
 *   resendOnUnknownDelivery off, a body that may have been taken is never sent
 *   again). A body received again after an explicit refusal (a 4xx after the
 *   dot) is a legitimate resend, not a duplicate.
 */
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { resilient } from '../../src/index.js';
import { describeAction, startFaultServer, type FaultServer, type Receipt } from '../helpers/fault-server.js';

const MESSAGES = 1_000;
const IN_FLIGHT = 20;
const FAULT_RATE = 0.2;
const SEED = 42;
const RETRIES = 5;

const TYPED_ERRORS = new Set([
  'ConnectionError',
  'TlsError',
  'AuthError',
  'HeloRejectedError',
  'SenderRejectedError',
  'RecipientsRejectedError',
  'MessageRejectedError',
  'DeliveryUnknownError',
  'CircuitOpenError',
]);

interface TypedError extends Error {
  retryable?: boolean;
  attempts?: number;
  code?: string;
  responseCode?: number;
}

interface Outcome {
  messageId: string;
  info?: { messageId?: string };
  err?: TypedError;
}

const servers: FaultServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function faultyServer(): Promise<FaultServer> {
  const server = await startFaultServer({
    random: {
      rate: FAULT_RATE,
      seed: SEED,
      // pooled connections carry many messages: each one gets its own draw
      per: 'message',
      // every phase a session without AUTH reaches
      phases: ['connect', 'greeting', 'ehlo', 'mail', 'rcpt', 'data', 'body', 'dot'],
      actions: [
        'drop',
        'drop',
        { reply: '421 4.3.2 Service shutting down' },
        { reply: '451 4.3.0 Try again later' },
        { reply: '452 4.3.1 Insufficient system storage' },
        { reply: '554 5.7.1 Rejected by policy' },
      ],
    },
  });
  servers.push(server);
  return server;
}

/** Runs `task` over 0..count-1 with at most `limit` running at once. */
async function inFlight<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

const increment = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);

describe('a seeded soak with one connection in five failing', () => {
  const MODES = [
    { mode: 'one connection per message', pool: false },
    { mode: 'a pool of 5 connections', pool: true },
  ];

  it.each(MODES)(`loses nothing and duplicates nothing over ${MESSAGES} messages, ${IN_FLIGHT} in flight, over $mode`, async ({ mode, pool }) => {
    const server = await faultyServer();
    const retriesById = new Map<string, number>();
    const transport = nodemailer.createTransport(
      resilient({
        host: server.host,
        port: server.port,
        secure: false,
        ignoreTLS: true,
        name: 'client.example.com',
        retry: { retries: RETRIES, minTimeout: 1, maxTimeout: 5 },
        retryBudget: false,
        breaker: false,
        ...(pool ? { pool: true, maxConnections: 5 } : {}),
        onRetry: ({ messageId }) => increment(retriesById, (messageId ?? '').replace(/[<>]/g, '')),
      }),
    );
    const started = performance.now();
    const outcomes = await inFlight(MESSAGES, IN_FLIGHT, async (i): Promise<Outcome> => {
      const messageId = `soak.${SEED}.${pool ? 'pool' : 'single'}.${i}@fault.test`;
      try {
        const info = await transport.sendMail({
          from: 'sender@example.com',
          to: `rcpt${i % 7}@example.com`,
          subject: `soak ${i}`,
          text: `Message ${i}.\n.A line that starts with a dot.\n`,
          messageId: `<${messageId}>`,
        });
        return { messageId, info };
      } catch (err) {
        return { messageId, err: err as TypedError };
      }
    });
    const elapsedMs = Math.round(performance.now() - started);
    transport.close();

    // ---- what the server saw, per message ----
    const receiptsById = new Map<string, Receipt[]>();
    for (const receipt of server.stats.receipts) {
      receiptsById.set(receipt.messageId, [...(receiptsById.get(receipt.messageId) ?? []), receipt]);
    }

    const midBodyDrops = new Set(
      server.stats.faults.filter((fault) => fault.phase === 'body' && fault.action === 'drop').map((fault) => fault.messageId),
    );
    const lost: string[] = [];
    const duplicates: string[] = [];
    const failedByClass = new Map<string, number>();
    let delivered = 0;
    let attempts = 0;
    let legitimateResends = 0;
    let unknownWithBody = 0;
    let unknownWithoutBody = 0;

    for (const outcome of outcomes) {
      const { messageId, info, err } = outcome;
      const receipts = receiptsById.get(messageId) ?? [];
      const acknowledged = receipts.filter((receipt) => receipt.outcome === 'acknowledged').length;
      attempts += err ? (err.attempts ?? 1) : (retriesById.get(messageId) ?? 0) + 1;

      // nothing received after a receipt that was taken, or that may have been
      const settledAt = receipts.findIndex((receipt) => receipt.outcome !== 'refused');
      if (acknowledged > 1 || (settledAt >= 0 && settledAt < receipts.length - 1)) {
        duplicates.push(`${messageId}: ${receipts.map((receipt) => `#${receipt.connection} ${receipt.outcome}`).join(', ')}`);
      }
      legitimateResends += receipts.filter((receipt) => receipt.outcome === 'refused').length && receipts.length > 1 ? 1 : 0;

      if (info) {
        delivered += 1;
        if (acknowledged !== 1 || info.messageId !== `<${messageId}>`) lost.push(`${messageId}: resolved, but acknowledged ${acknowledged} time(s)`);
        continue;
      }
      if (!err || !TYPED_ERRORS.has(err.name)) {
        lost.push(`${messageId}: rejected with an untyped error: ${err?.name}: ${err?.message}`);
        continue;
      }
      increment(failedByClass, `${err.name}${err.retryable ? ' (retryable, retries spent)' : ''}`);
      if (acknowledged !== 0) lost.push(`${messageId}: ${err.name}, yet the server acknowledged it`);
      if (err.name === 'DeliveryUnknownError') {
        // Its last attempt either left a body with no reply (received once, never again: checked
        // above), or died right after the headers of a body the client had already written in
        // full, so no complete body arrived on that attempt (an earlier one may have been refused).
        if (receipts.at(-1)?.outcome === 'unanswered') unknownWithBody += 1;
        else if (midBodyDrops.has(messageId)) unknownWithoutBody += 1;
        else lost.push(`${messageId}: DeliveryUnknownError, yet no body of it went unanswered and none was dropped mid-body`);
      }
    }

    const faultsByKind = new Map<string, number>();
    for (const fault of server.stats.faults) increment(faultsByKind, `${fault.phase} ${describeAction(fault.action).slice(0, 3)}`);
    const failed = MESSAGES - delivered;

    console.log(
      [
        `soak over ${mode}: ${MESSAGES} messages, ${IN_FLIGHT} in flight, seed ${SEED}, fault rate ${FAULT_RATE}, retries ${RETRIES}, ${elapsedMs} ms`,
        `  delivered:          ${delivered}`,
        `  failed:             ${failed}${[...failedByClass].map(([name, n]) => `\n    ${name}: ${n}`).join('')}`,
        `    DeliveryUnknownError with the last body received once and unanswered: ${unknownWithBody}, with no complete body on the last attempt: ${unknownWithoutBody}`,
        `  attempts:           ${attempts} (${(attempts / MESSAGES).toFixed(3)} per message)`,
        `  connections:        ${server.connections}`,
        `  faults fired:       ${server.stats.faults.length}${[...faultsByKind].sort().map(([kind, n]) => `\n    ${kind}: ${n}`).join('')}`,
        `  bodies received:    ${server.stats.receipts.length} (resent after an explicit refusal: ${legitimateResends} messages)`,
        `  lost:               ${lost.length}`,
        `  duplicates:         ${duplicates.length}`,
      ].join('\n'),
    );

    expect(outcomes).toHaveLength(MESSAGES);
    expect(lost).toEqual([]);
    expect(duplicates).toEqual([]);
    // the plan did inject faults, and the retries got most messages through
    expect(server.stats.faults.length).toBeGreaterThan(MESSAGES * FAULT_RATE * 0.5);
    expect(delivered).toBeGreaterThan(MESSAGES * 0.8);
  }, 120_000);
});
