import net from 'node:net';
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { destinationCount, isCircuitOpenError, resetDestinations, resilient, type BreakerEvent, type ResilientOptions } from '../../src/index.js';
import { startDroppingListener } from '../helpers/counting-listener.js';
import { startTestServer, type TestServer } from '../helpers/smtp-server.js';

const message = { from: 'app@example.com', to: 'user@example.net', subject: 'Breaker', text: 'hello' };

const send = (options: ResilientOptions) =>
  nodemailer
    .createTransport(resilient(options))
    .sendMail(message)
    .then(
      () => 'delivered',
      (err: Error) => err,
    );

/** Lets a send finish under fake timers (smtp-server waits 100 ms before greeting). */
async function settle<T>(promise: Promise<T>): Promise<T> {
  let done = false;
  void promise.finally(() => (done = true));
  for (let i = 0; i < 200 && !done; i++) await vi.advanceTimersByTimeAsync(20);
  return promise;
}

beforeEach(() => resetDestinations());
afterEach(() => {
  vi.useRealTimers();
  resetDestinations();
});

describe('the circuit breaker', () => {
  it('does not open on a single failure of a fresh breaker', async () => {
    const dead = await startDroppingListener();
    const options: ResilientOptions = { host: '127.0.0.1', port: dead.port, retry: false };
    await send(options);
    await send(options);
    expect(await send(options)).toMatchObject({ name: 'ConnectionError' });
    expect(dead.connections).toBe(3);
    await dead.close();
  });

  it('opens after volumeThreshold failures, then fails fast without a connection and says when to try again', async () => {
    const dead = await startDroppingListener();
    // A transport per send, as Typebot, Cal.com and Auth.js build them: the breaker is shared.
    const options: ResilientOptions = { host: '127.0.0.1', port: dead.port, retry: false, breaker: { volumeThreshold: 3, resetTimeout: 60_000 } };
    for (let i = 0; i < 3; i++) expect(await send(options)).toMatchObject({ name: 'ConnectionError' });
    const before = dead.connections;
    const err = await send(options);
    expect(isCircuitOpenError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'EBREAKER', retryable: false, destination: `127.0.0.1:${dead.port}` });
    expect((err as unknown as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(50_000);
    expect(dead.connections).toBe(before);
    await dead.close();
  });

  it('walks open, half-open (one probe) and closed with fake timers', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const dead = await startDroppingListener();
    const healthy = await startTestServer({ tls: 'plain' });
    // Same destination key: a transport per phase, pointed at the dead or the healthy port by getSocket.
    const events: BreakerEvent[] = [];
    const base = { host: '127.0.0.1', port: 2525, retry: false as const, breaker: { volumeThreshold: 2, resetTimeout: 30_000 }, onBreakerStateChange: (e: BreakerEvent) => events.push(e) };
    const to = (port: number) => ({ ...base, getSocket: (_o: unknown, cb: (e: Error | null, s?: unknown) => void) => cb(null, { connection: net.connect(port, '127.0.0.1') }) });
    // nodemailer 6.x reports a closed socket after a 1 s timer: settle() runs the fake clock.
    await settle(send(to(dead.port)));
    await settle(send(to(dead.port)));
    expect(events.map((e) => e.state)).toEqual(['open']);
    expect(await send(to(healthy.port))).toMatchObject({ name: 'CircuitOpenError' });
    expect(healthy.connections).toBe(0);

    vi.advanceTimersByTime(30_000);
    expect(events.map((e) => e.state)).toEqual(['open', 'halfOpen']);
    // One probe goes through; a second send while it runs is refused.
    const probe = send(to(healthy.port));
    const second = await send(to(healthy.port));
    expect(second).toMatchObject({ name: 'CircuitOpenError' });
    expect(await settle(probe)).toBe('delivered');
    expect(events.map((e) => e.state)).toEqual(['open', 'halfOpen', 'close']);
    expect(healthy.messages).toHaveLength(1);
    expect(await settle(send(to(healthy.port)))).toBe('delivered');
    await dead.close();
    await healthy.close();
  });

  it('opens on a server that accepts connections and never greets', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const options: ResilientOptions = { host: '127.0.0.1', port, greetingTimeout: 100, retry: false, breaker: { volumeThreshold: 2 } };
    expect(await send(options)).toMatchObject({ code: 'ETIMEDOUT' });
    expect(await send(options)).toMatchObject({ code: 'ETIMEDOUT' });
    expect(await send(options)).toMatchObject({ name: 'CircuitOpenError' });
    expect(sockets).toHaveLength(2);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('is never opened by 5xx replies about a message', async () => {
    const server = await startTestServer({ tls: 'plain', onRcptTo: () => ({ code: 550, message: '5.1.1 User unknown' }) });
    const options: ResilientOptions = { host: '127.0.0.1', port: server.port, retry: false, breaker: { volumeThreshold: 2 } };
    for (let i = 0; i < 6; i++) expect(await send(options)).toMatchObject({ name: 'RecipientsRejectedError', retryable: false });
    expect(server.connections).toBe(6);
    await server.close();
  });

  it('fails over to the next destination when the first is dead or open, with an event', async () => {
    const dead = await startDroppingListener();
    const backup = await startTestServer({ tls: 'plain' });
    const failovers: string[] = [];
    const transport = resilient({
      host: '127.0.0.1',
      port: dead.port,
      retry: false,
      breaker: { volumeThreshold: 2, resetTimeout: 60_000 },
      failover: [{ host: '127.0.0.1', port: backup.port }],
      onFailover: (e) => failovers.push(`${e.from} -> ${e.to}: ${e.error.name}`),
    });
    const transporter = nodemailer.createTransport(transport);
    for (let i = 0; i < 4; i++) await expect(transporter.sendMail(message)).resolves.toMatchObject({ accepted: ['user@example.net'] });
    expect(backup.messages).toHaveLength(4);
    // Two real failures opened the primary's breaker; later sends skip it without a connection.
    expect(dead.connections).toBe(2);
    expect(failovers[0]).toBe(`127.0.0.1:${dead.port} -> 127.0.0.1:${backup.port}: ConnectionError`);
    expect(failovers.at(-1)).toMatch(/CircuitOpenError$/);
    transporter.close();
    await dead.close();
    await backup.close();
  });

  it('shares a retry budget, so a thousand queued sends do not each retry into a dead server', async () => {
    const dead = await startDroppingListener();
    const transporter = nodemailer.createTransport(
      resilient({ host: '127.0.0.1', port: dead.port, retry: { retries: 2, minTimeout: 1, maxTimeout: 2 }, breaker: false, retryBudget: { capacity: 20, retryCost: 5 } }),
    );
    const results = await Promise.all(Array.from({ length: 50 }, () => transporter.sendMail(message).catch((e: Error) => e)));
    expect(results.every((r) => (r as Error).name === 'ConnectionError')).toBe(true);
    // 50 first attempts, and only the 4 retries the budget could pay for (20 / 5).
    expect(dead.connections).toBe(54);
    expect(results.filter((r) => /retry budget/.test((r as unknown as { hint: string }).hint))).not.toHaveLength(0);
    await dead.close();
  });

  it('remembers one destination for thousands of per-send transports, and forgets it on close', () => {
    for (let i = 0; i < 5_000; i++) resilient({ host: 'smtp.example.com', port: 587 });
    expect(destinationCount()).toBe(1);
    const transport = resilient({ host: 'other.example.com', port: 587 });
    expect(destinationCount()).toBe(2);
    transport.close();
    expect(destinationCount()).toBe(1);
  });
});
