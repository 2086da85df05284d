import { createRequire } from 'node:module';
import type { Attributes, Span, SpanStatusCode, Tracer, TracerProvider } from '@opentelemetry/api';
import { VERSION } from './version.js';

/**
 * OpenTelemetry spans, when @opentelemetry/api is installed (an optional
 * peer dependency). Without it, or without a registered tracer provider,
 * `startSendSpan()` returns undefined and costs one cached check.
 */
export interface SendSpan {
  /** Records an attempt, a retry, a failover or a breaker rejection as a span event. */
  addEvent(name: string, attributes: Record<string, string | number | boolean | undefined>): void;
  /** Ends the span, recording the error class and `retryable` when it failed. */
  end(error?: Error): void;
}

/** The span every send makes. Named `{operation} {server.address}`, as OpenTelemetry's messaging conventions name theirs. */
export const SPAN_NAME = 'send';

/** Attributes of our own, outside OpenTelemetry's registry, under one prefix as the conventions ask. */
export const ATTRIBUTES = {
  retryable: 'nodemailer_resilient.retryable',
  attempts: 'nodemailer_resilient.attempts',
  errorCode: 'nodemailer_resilient.error.code',
  responseCode: 'nodemailer_resilient.smtp.response_code',
  destination: 'nodemailer_resilient.destination',
} as const;

type OtelApi = typeof import('@opentelemetry/api');

/** undefined: not looked for yet; null: not installed. */
let api: OtelApi | null | undefined;

/**
 * Loads @opentelemetry/api once, synchronously, from the app's own
 * node_modules. A static import would make it a hard dependency; a dynamic
 * import() would make the first send wait. tsup shims `import.meta.url` in
 * the CommonJS build.
 */
function loadApi(): OtelApi | null {
  if (api !== undefined) return api;
  try {
    api = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
  } catch {
    api = null;
  }
  return api;
}


/** The no-op provider of this copy of the API: what the global provider delegates to until an SDK registers. */
let noopProvider: TracerProvider | undefined;
let cachedTracer: { provider: TracerProvider; tracer: Tracer } | undefined;

/**
 * The tracer of the registered provider, or undefined when none is
 * registered (then a send does no tracing work at all). Looked up on every
 * send, so that a provider registered, or replaced, later is used.
 */
function activeTracer(otel: OtelApi): Tracer | undefined {
  const global = otel.trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
  const provider = typeof global.getDelegate === 'function' ? global.getDelegate() : global;
  noopProvider ??= new otel.ProxyTracerProvider().getDelegate();
  if (provider === noopProvider) return undefined;
  if (cachedTracer?.provider !== provider) cachedTracer = { provider, tracer: provider.getTracer('nodemailer-resilient', VERSION) };
  return cachedTracer.tracer;
}

function clean(attributes: Record<string, string | number | boolean | undefined>): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined && !(typeof value === 'number' && Number.isNaN(value))) out[key] = value;
  }
  return out;
}

/**
 * `attributes` is a function so that a send with no tracer registered (the
 * usual case) builds nothing: the span is started bare, and only a recording
 * one gets its attributes. (A sampler therefore sees the name and kind only.)
 */
export function startSendSpan(
  serverAddress: string | undefined,
  attributes: () => Record<string, string | number | boolean | undefined>,
): SendSpan | undefined {
  const otel = loadApi();
  if (!otel) return undefined;
  const tracer = activeTracer(otel);
  if (!tracer) return undefined;
  const span = tracer.startSpan(serverAddress ? `${SPAN_NAME} ${serverAddress}` : SPAN_NAME, { kind: otel.SpanKind.CLIENT });
  if (!span.isRecording()) {
    // No provider, or sampled out: skip the bookkeeping.
    span.end();
    return undefined;
  }
  span.setAttributes(clean(attributes()));
  return new RecordingSendSpan(span, otel.SpanStatusCode.ERROR);
}

class RecordingSendSpan implements SendSpan {
  #span: Span;
  #errorStatus: SpanStatusCode;
  #attempts = 0;

  constructor(span: Span, errorStatus: SpanStatusCode) {
    this.#span = span;
    this.#errorStatus = errorStatus;
  }

  addEvent(name: string, attributes: Record<string, string | number | boolean | undefined>): void {
    if (name === 'attempt') this.#attempts++;
    this.#span.addEvent(name, clean(attributes));
  }

  end(error?: Error): void {
    const span = this.#span;
    span.setAttribute(ATTRIBUTES.attempts, this.#attempts);
    if (error) {
      const e = error as Error & { retryable?: unknown; code?: unknown; responseCode?: unknown; destination?: unknown };
      // error.type: "the fully-qualified exception type", low cardinality (OpenTelemetry's error conventions).
      span.setAttributes(
        clean({
          'error.type': error.name || 'Error',
          [ATTRIBUTES.retryable]: typeof e.retryable === 'boolean' ? e.retryable : undefined,
          [ATTRIBUTES.errorCode]: typeof e.code === 'string' ? e.code : undefined,
          [ATTRIBUTES.responseCode]: typeof e.responseCode === 'number' ? e.responseCode : undefined,
          [ATTRIBUTES.destination]: typeof e.destination === 'string' ? e.destination : undefined,
        }),
      );
      // Not the error itself: the SDK would report its `code` (EENVELOPE) as exception.type, where
      // the conventions want the class. Messages of MailErrors are already redacted where they are built.
      span.recordException({ name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) });
      span.setStatus({ code: this.#errorStatus, message: `${error.name}: ${error.message}` });
    }
    span.end();
  }
}
