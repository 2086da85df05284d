import type { SendContext } from './context.js';
import { sendWithRetries } from './send-with-retries.js';

interface DeliveredInfo {
  rejected?: string[];
  rejectedErrors?: Array<Error & { recipient?: string; responseCode?: number }>;
  accepted?: string[];
}

/** What became of the recipients refused with a 4xx and retried alone: `info.deferred`. */
export interface DeferredOutcome {
  recipients: string[];
  delivered: string[];
  failed: Array<{ recipient: string; error: Error }>;
}

/** Opt-in: recipients refused with a 4xx are retried alone, once the accepted ones are delivered. */
export async function retryDeferredRecipients(context: SendContext, info: unknown): Promise<void> {
  const result = info as DeliveredInfo;
  const deferred = (result.rejectedErrors ?? [])
    .filter((e) => (e.responseCode ?? 0) >= 400 && (e.responseCode ?? 0) < 500 && e.recipient)
    .map((e) => e.recipient!);
  const message = context.mail.message;
  if (!deferred.length || typeof message.setEnvelope !== 'function') return;
  const original = message.getEnvelope();
  const outcome: DeferredOutcome = { recipients: deferred, delivered: [], failed: [] };
  message.setEnvelope({ from: original.from, to: deferred });
  try {
    const second = (await sendWithRetries({ ...context, attempt: 0, failedAt: undefined, notResent: undefined })) as DeliveredInfo;
    outcome.delivered = second.accepted ?? [];
    for (const e of second.rejectedErrors ?? []) outcome.failed.push({ recipient: e.recipient ?? '', error: e });
  } catch (err) {
    for (const recipient of deferred) outcome.failed.push({ recipient, error: err as Error });
  } finally {
    message.setEnvelope(original);
  }
  (info as Record<string, unknown>)['deferred'] = outcome;
}
