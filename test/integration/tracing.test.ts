import { AsyncLocalStorage } from 'node:async_hooks';
import Module from 'node:module';
import { type Context, type ContextManager, ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { isMailError, resilient } from '../../src/index.js';
import { startTestServer, type TestServer } from '../helpers/smtp-server.js';

const mail = { from: 'app@example.com', to: 'someone@example.net', subject: 'hi', text: 'hello' };
const fastRetry = { retries: 2, minTimeout: 10, randomize: false };

/** What @opentelemetry/context-async-hooks does, cut to the bone: apps get one from their SDK setup. */
class AsyncLocalStorageContextManager implements ContextManager {
  #storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

describe('OpenTelemetry spans', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let server: TestServer;
  /** RCPT TO replies, one per call; undefined accepts. */
  let rcptReplies: Array<{ code: number; message: string } | undefined>;

  beforeAll(async () => {
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager());
    server = await startTestServer({ tls: 'plain', onRcptTo: () => rcptReplies.shift() });
  });
  afterAll(async () => {
    await server.close();
    await provider.shutdown();
    trace.disable();
    context.disable();
  });
  beforeEach(() => {
    exporter.reset();
    rcptReplies = [];
  });

  const transporter = () =>
    nodemailer.createTransport(resilient({ host: '127.0.0.1', port: server.port, retry: fastRetry, breaker: false }));

  it('makes one client span per send, named after the server, with the address, port and message id', async () => {
    const info = await transporter().sendMail(mail);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    const span = spans[0]!;
    expect(span.name).toBe('send 127.0.0.1');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.instrumentationScope.name).toBe('nodemailer-resilient');
    expect(span.attributes).toMatchObject({
      'server.address': '127.0.0.1',
      'server.port': server.port,
      'messaging.message.id': info.messageId,
      'nodemailer_resilient.attempts': 1,
    });
    expect(span.attributes['error.type']).toBeUndefined();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.events.map((e) => [e.name, e.attributes])).toEqual([['attempt', { attempt: 1 }]]);
  });

  it('records each attempt of a retried send as an event on the same span', async () => {
    rcptReplies = [{ code: 451, message: '4.7.1 Greylisted, try again later' }];
    await transporter().sendMail(mail);
    const [span] = exporter.getFinishedSpans();
    expect(span?.events.map((e) => e.attributes?.['attempt'])).toEqual([1, 2]);
    expect(span?.attributes['nodemailer_resilient.attempts']).toBe(2);
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('marks a failed send as an error with the error class, code and retryable as attributes', async () => {
    rcptReplies = [{ code: 550, message: '5.1.1 No such user' }];
    const err = await transporter().sendMail(mail).then(() => undefined, (e: unknown) => e);
    expect(isMailError(err) && err.name).toBe('RecipientsRejectedError');
    const [span] = exporter.getFinishedSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.status.message).toMatch(/^RecipientsRejectedError: /);
    expect(span?.attributes).toMatchObject({
      'error.type': 'RecipientsRejectedError',
      'nodemailer_resilient.retryable': false,
      'nodemailer_resilient.error.code': 'EENVELOPE',
      'nodemailer_resilient.smtp.response_code': 550,
      'nodemailer_resilient.attempts': 1,
    });
    const exception = span?.events.find((e) => e.name === 'exception');
    expect(exception?.attributes?.['exception.type']).toBe('RecipientsRejectedError');
  });

  it('records a retryable failure that ran out of retries with retryable true and every attempt', async () => {
    rcptReplies = [0, 1, 2].map(() => ({ code: 451, message: '4.3.0 Try again later' }));
    await expect(transporter().sendMail(mail)).rejects.toMatchObject({ retryable: true });
    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes['nodemailer_resilient.retryable']).toBe(true);
    expect(span?.attributes['nodemailer_resilient.attempts']).toBe(3);
    expect(span?.events.filter((e) => e.name === 'attempt')).toHaveLength(3);
  });

  it('keeps the password out of the span', async () => {
    const pass = `pw-${Math.random().toString(36).slice(2)}`;
    const authServer = await startTestServer({ tls: 'plain', auth: 'required', user: 'user', pass: 'right' });
    try {
      const t = nodemailer.createTransport(
        resilient({ host: '127.0.0.1', port: authServer.port, auth: { user: 'user', pass }, breaker: false, retry: false }),
      );
      await expect(t.sendMail(mail)).rejects.toMatchObject({ name: 'AuthError' });
      const [span] = exporter.getFinishedSpans();
      expect(span?.attributes['error.type']).toBe('AuthError');
      const dump = JSON.stringify([span?.attributes, span?.events, span?.status]);
      expect(dump).not.toContain(pass);
      expect(dump).not.toContain(Buffer.from(pass).toString('base64'));
    } finally {
      await authServer.close();
    }
  });

  it('makes the send span a child of the span that is active when sendMail is called', async () => {
    const tracer = trace.getTracer('app');
    await tracer.startActiveSpan('job', async (parent) => {
      await transporter().sendMail(mail);
      parent.end();
    });
    const spans = exporter.getFinishedSpans();
    const parent = spans.find((s) => s.name === 'job');
    const send = spans.find((s) => s.name.startsWith('send '));
    expect(send?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
  });
});

describe('without OpenTelemetry', () => {
  it('sends without error when @opentelemetry/api cannot be loaded', async () => {
    const resolve = (Module as unknown as { _resolveFilename: (...args: unknown[]) => string })._resolveFilename;
    const spy = vi.spyOn(Module as unknown as { _resolveFilename: typeof resolve }, '_resolveFilename').mockImplementation(
      function (this: unknown, ...args: unknown[]) {
        if (args[0] === '@opentelemetry/api') throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
        return resolve.apply(this, args);
      },
    );
    vi.resetModules();
    const server = await startTestServer({ tls: 'plain' });
    try {
      const fresh = await import('../../src/index.js');
      const tracing = await import('../../src/tracing.js');
      expect(tracing.startSendSpan('127.0.0.1', () => ({ 'server.address': '127.0.0.1' }))).toBeUndefined();
      const info = await nodemailer.createTransport(fresh.resilient({ host: '127.0.0.1', port: server.port, breaker: false })).sendMail(mail);
      expect(info.accepted).toEqual(['someone@example.net']);
      expect(spy.mock.calls.some((call) => call[0] === '@opentelemetry/api')).toBe(true);
    } finally {
      spy.mockRestore();
      await server.close();
    }
  });

  it('uses a tracer provider registered after the transport was built, and the one that replaces it', async () => {
    const server = await startTestServer({ tls: 'plain' });
    const first = new InMemorySpanExporter();
    const second = new InMemorySpanExporter();
    const providers = [first, second].map((exporter) => new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    try {
      const transporter = nodemailer.createTransport(resilient({ host: '127.0.0.1', port: server.port, breaker: false }));
      await transporter.sendMail(mail);
      trace.setGlobalTracerProvider(providers[0]!);
      await transporter.sendMail(mail);
      trace.disable();
      trace.setGlobalTracerProvider(providers[1]!);
      await transporter.sendMail(mail);
      expect(first.getFinishedSpans().map((s) => s.name)).toEqual(['send 127.0.0.1']);
      expect(second.getFinishedSpans().map((s) => s.name)).toEqual(['send 127.0.0.1']);
    } finally {
      trace.disable();
      await Promise.all(providers.map((p) => p.shutdown()));
      await server.close();
    }
  });

  it('makes no span when no tracer provider is registered', async () => {
    const { startSendSpan } = await import('../../src/tracing.js');
    expect(startSendSpan('127.0.0.1', () => ({ 'server.address': '127.0.0.1' }))).toBeUndefined();
  });
});
