/**
 * OpenTelemetry spans, when @opentelemetry/api is installed (an optional
 * peer dependency). Placeholder: returns no span until tracing is wired.
 */
export interface SendSpan {
  /** Records an attempt, a retry, a failover or a breaker rejection as a span event. */
  addEvent(name: string, attributes: Record<string, string | number | boolean | undefined>): void;
  /** Ends the span, recording the error class and `retryable` when it failed. */
  end(error?: Error): void;
}

export function startSendSpan(_attributes: Record<string, string | number | boolean | undefined>): SendSpan | undefined {
  return undefined;
}
