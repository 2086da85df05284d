import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * The app's usual OpenTelemetry set-up (NodeSDK does the same, with a batch processor and an OTLP
 * exporter). nodemailer-resilient needs nothing more: with @opentelemetry/api installed and a provider
 * registered, every send is a span; without them it makes none and costs nothing.
 */
export function startTracing(exporter: SpanExporter): BasicTracerProvider {
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  return provider;
}
