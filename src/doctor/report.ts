import type { MailError } from '../errors/mail-error.js';

/** The checks, in the order a send goes through them. */
export type StepId = 'resolve' | 'connect' | 'tls-mode' | 'certificate' | 'ehlo' | 'auth' | 'mail' | 'rcpt' | 'data';

export const STEP_TITLES: Record<StepId, string> = {
  resolve: 'resolve host',
  connect: 'TCP connect',
  'tls-mode': 'TLS mode',
  certificate: 'certificate',
  ehlo: 'EHLO',
  auth: 'AUTH',
  mail: 'MAIL FROM',
  rcpt: 'RCPT TO',
  data: 'DATA',
};

export type StepStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** One change that fixes a failure, as a line of configuration. */
export interface Fix {
  /** `SMTP_SECURE=false`, or a line of code such as `name: "mail.example.com"`; never a secret. */
  line: string;
  /** Why, in one short clause: printed after the line as a `#` comment. */
  why: string;
}

export interface Step {
  id: StepId;
  title: string;
  status: StepStatus;
  durationMs: number;
  /** One line: what was found. */
  summary: string;
  /** Facts worth a line each (the banner, the EHLO keywords, the certificate). */
  details: Array<[label: string, value: string]>;
  /** The typed error resilient() would raise for this failure. */
  error?: MailError;
  fixes: Fix[];
  /** Settings this step ran with that differ from the configuration (a fix assumed from an earlier step). */
  assumed?: string[];
}

export interface Report {
  ok: boolean;
  exitCode: 0 | 1;
  steps: Step[];
  /** The first failure with the error the server gave, if any: what to fix first. */
  failure: Step | undefined;
  totalMs: number;
}

export function newStep(id: StepId, status: StepStatus, summary: string, durationMs = 0): Step {
  return { id, title: STEP_TITLES[id], status, durationMs: Math.round(durationMs), summary, details: [], fixes: [] };
}

/** Milliseconds since `start` (a performance.now() reading). */
export function since(start: number): number {
  return Math.round(performance.now() - start);
}

export function finishReport(steps: Step[], started: number): Report {
  // A row can fail for want of something another row found (AUTH needed, seen at MAIL FROM): the error tells the cause.
  const failure = steps.find((s) => s.status === 'fail' && s.error) ?? steps.find((s) => s.status === 'fail');
  return { ok: !failure, exitCode: failure ? 1 : 0, steps, failure, totalMs: since(started) };
}
