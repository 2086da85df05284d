import { maskedSmtp } from './config-view.js';
import type { DoctorInput } from './input.js';
import type { Report, Step } from './report.js';

function stepJson(step: Step): Record<string, unknown> {
  return {
    id: step.id,
    title: step.title,
    status: step.status,
    durationMs: step.durationMs,
    summary: step.summary,
    details: step.details.map(([label, value]) => ({ label, value })),
    ...(step.assumed ? { assumed: step.assumed } : {}),
    // MailError.toJSON(): name, message, code, responseCode, response, command, retryable, hint; no cause.
    ...(step.error ? { error: step.error.toJSON() } : {}),
    fixes: step.fixes,
  };
}

/** The report as one JSON value, for scripts and CI. */
export function reportJson(report: Report, input: DoctorInput): Record<string, unknown> {
  const destination = input.config.destinations[0]!;
  return {
    ok: report.ok,
    exitCode: report.exitCode,
    durationMs: report.totalMs,
    config: {
      smtp: maskedSmtp(input),
      port: input.port,
      from: input.from ?? null,
      to: input.to ?? null,
      ehloName: input.ehloName,
      ehloNameSource: input.ehloNameSource,
      sources: Object.fromEntries(Object.entries(input.origins).map(([field, origin]) => [field, origin.name])),
      notes: destination.notes,
      warnings: destination.warnings,
    },
    steps: report.steps.map(stepJson),
    failure: report.failure ? { step: report.failure.id, error: report.failure.error?.name ?? null, fixes: report.steps.flatMap((s) => s.fixes) } : null,
  };
}
