import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertSender } from '../config/ehlo-name.js';
import type { MailError } from '../errors/mail-error.js';
import { toMailError } from '../errors/to-mail-error.js';
import { createSmtpTransport } from '../nodemailer/interop.js';
import type { SmtpOptions } from '../options.js';
import { type CertificateFacts, EXPIRY_WARNING_DAYS, certificateFacts, describeCertificate } from './certificate.js';
import { type ServerMode, connectTcp, detectServerMode, resolveHost } from './first-contact.js';
import { type FixContext, fixesFor, settingLine } from './fix.js';
import type { DoctorInput } from './input.js';
import { type NodemailerError, asNodemailerError, composeTestMessage } from './nodemailer-parts.js';
import { type Report, type Step, type StepId, finishReport, newStep, since } from './report.js';
import { type Offer, SmtpSession } from './smtp-session.js';

/** The longest the doctor waits before retrying a temporary reply, as resilient() would (retry.minTimeout). */
const MAX_RETRY_WAIT_MS = 2000;

const SESSION_STEPS: readonly StepId[] = ['certificate', 'ehlo', 'auth', 'mail', 'rcpt', 'data'];

interface Run {
  input: DoctorInput;
  /** The options the session runs with: the configuration, or it with a fix from an earlier step. */
  smtp: SmtpOptions;
  assumed: string[];
  mode: ServerMode | undefined;
}

function classify(raw: unknown, run: Run, extra: { bodySent?: boolean } = {}): MailError {
  const { input } = run;
  return toMailError(raw, {
    secure: run.smtp.secure === true,
    port: input.port,
    destination: `${input.smtp.host}:${input.port}`,
    redact: input.redact,
    ...extra,
  });
}

function failed(id: StepId, summary: string, error: MailError, run: Run, durationMs: number, context: FixContext = {}): Step {
  const step = newStep(id, 'fail', summary, durationMs);
  step.error = error;
  step.fixes = fixesFor(error, run.input, context);
  return step;
}

function skipped(ids: readonly StepId[], why: string): Step[] {
  return ids.map((id) => newStep(id, 'skip', why));
}

/** A nodemailer timeout error, as it raises it once the time is up. */
function timeoutError(message: string, timeoutType: string): NodemailerError {
  return asNodemailerError(Object.assign(new Error(message), { timeoutType }), 'ETIMEDOUT', 'CONN');
}

/** Whether a failure is the certificate's or the TLS handshake's, rather than SMTP's. */
const isTlsFailure = (err: MailError): boolean => err.name === 'TlsError' && !/STARTTLS command first|ignoreTLS/i.test(`${err.message} ${err.hint}`);

/** Runs resilient()'s own connection once with the given options, to get the real error nodemailer raises. */
async function reproduce(run: Run, smtp: SmtpOptions): Promise<MailError | undefined> {
  const session = new SmtpSession({ smtp, name: run.input.ehloName, timeoutMs: run.input.timeout });
  try {
    await session.connect();
    return undefined;
  } catch (raw) {
    return classify(raw, { ...run, smtp });
  } finally {
    session.close();
  }
}

function certificateStep(facts: CertificateFacts | undefined, run: Run, durationMs: number): Step {
  if (!facts) return newStep('certificate', 'warn', 'the server sent no certificate', durationMs);
  const verify = run.smtp.tls?.['rejectUnauthorized'] !== false;
  const step = newStep('certificate', 'pass', describeCertificate(facts), durationMs);
  step.details.push(['names', facts.altNames.join(', ') || '(none)']);
  if (facts.protocol) step.details.push(['protocol', facts.protocol]);
  if (!facts.authorized) {
    // Only reachable with verification off: with it on, the handshake fails first.
    step.status = 'warn';
    step.summary = `not verified (${facts.authorizationError ?? 'unknown reason'}): ${step.summary}`;
    step.details.push(['risk', verify ? 'the certificate would be refused' : 'tls.rejectUnauthorized is false: anyone in the path can read the password and the mail']);
  } else if (facts.daysLeft < EXPIRY_WARNING_DAYS) {
    step.status = 'warn';
    step.details.push(['expiry', `${facts.daysLeft} days left: sending stops when it expires unless it is renewed`]);
  }
  return step;
}

/** Resolve, TCP connect and TLS mode, on a raw socket. Returns the mode, or undefined when a failure ends the check. */
async function firstContact(run: Run, steps: Step[]): Promise<boolean> {
  const { input } = run;
  const host = input.smtp.host!;
  let started = performance.now();
  let addresses: string[];
  try {
    addresses = await resolveHost(host, input.timeout);
    const summary = addresses[0] === host.replace(/^\[(.*)\]$/, '$1') ? `${host} is an address: nothing to resolve` : `${host} -> ${addresses.join(', ')}`;
    steps.push(newStep('resolve', 'pass', summary, since(started)));
  } catch (err) {
    const raw = (err as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? timeoutError('DNS lookup timed out', 'DNS_TIMEOUT') : asNodemailerError(err as Error, 'EDNS', 'CONN');
    steps.push(failed('resolve', `${host} does not resolve`, classify(raw, run), run, since(started)));
    return false;
  }

  started = performance.now();
  const address = addresses[0]!;
  let socket;
  try {
    socket = await connectTcp(address, input.port, input.timeout);
    steps.push(newStep('connect', 'pass', `connected to ${address}:${input.port}`, since(started)));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const raw = code === 'ETIMEDOUT' ? timeoutError('Connection timeout', 'CONNECT_TIMEOUT') : asNodemailerError(err as Error, 'ESOCKET', 'CONN');
    steps.push(failed('connect', `no connection to ${address}:${input.port} (${code ?? 'error'})`, classify(raw, run), run, since(started)));
    return false;
  }

  started = performance.now();
  const secure = input.smtp.secure === true;
  const mode = await detectServerMode(socket, { tls: input.smtp.tls, host, timeoutMs: input.timeout, expectTls: secure });
  run.mode = mode;
  const port = `port ${input.port}`;
  switch (mode.mode) {
    case 'plaintext': {
      if (!secure) {
        const step = newStep('tls-mode', 'pass', 'plaintext greeting: TLS, if any, starts with STARTTLS (see EHLO)', since(started));
        step.details.push(['greeting', mode.banner]);
        steps.push(step);
        return true;
      }
      // The real error: nodemailer fails fast here, so let it.
      const error = (await reproduce(run, input.smtp)) ?? classify(asNodemailerError('wrong version number', 'ESOCKET', 'CONN'), run);
      const step = failed('tls-mode', `the server greets in plaintext, but secure is true: the client starts with TLS`, error, run, since(started));
      step.details.push(mode.banner.startsWith('(') ? ['found', mode.banner.slice(1, -1)] : ['greeting', mode.banner]);
      step.fixes = [{ line: settingLine(input, 'secure', false), why: `${port} starts in plaintext and upgrades with STARTTLS` }];
      steps.push(step);
      run.smtp = { ...input.smtp, secure: false };
      run.assumed.push(step.fixes[0]!.line);
      return true;
    }
    case 'tls': {
      if (secure) {
        const step = newStep('tls-mode', 'pass', `implicit TLS: the server waits for the TLS handshake${mode.certificate?.protocol ? ` (${mode.certificate.protocol})` : ''}`, since(started));
        if (mode.banner) step.details.push(['greeting', mode.banner]);
        steps.push(step);
        return true;
      }
      // nodemailer would wait greetingTimeout (30 s by default) for a greeting that never comes.
      const error = classify(timeoutError('Greeting never received', 'GREETING_TIMEOUT'), run);
      const step = failed(
        'tls-mode',
        `the server says nothing until a TLS handshake (implicit TLS), but secure is false: nodemailer would wait ${Number(input.smtp['greetingTimeout'] ?? 30_000) / 1000} s for a greeting`,
        error,
        run,
        since(started),
      );
      step.fixes = [{ line: settingLine(input, 'secure', true), why: `${port} speaks TLS from the first byte (implicit TLS, like 465)` }];
      steps.push(step);
      run.smtp = { ...input.smtp, secure: true };
      run.assumed.push(step.fixes[0]!.line);
      return true;
    }
    case 'closed': {
      const error = classify(asNodemailerError('Connection closed unexpectedly', 'ECONNECTION', 'CONN'), run);
      steps.push(failed('tls-mode', 'the server closed the connection without a greeting', error, run, since(started)));
      return false;
    }
    case 'other': {
      const error = (await reproduce(run, input.smtp)) ?? classify(asNodemailerError(`Invalid greeting. response=${mode.bytes}`, 'EPROTOCOL', 'CONN'), run);
      const step = failed('tls-mode', 'the server does not speak SMTP: its first bytes are not a greeting', error, run, since(started));
      step.details.push(['received', JSON.stringify(mode.bytes.slice(0, 80))]);
      steps.push(step);
      return false;
    }
    case 'silent': {
      const error = classify(timeoutError('Greeting never received', 'GREETING_TIMEOUT'), run);
      const step = failed('tls-mode', `no greeting within ${(mode.waitedMs / 1000).toFixed(1)} s, and no answer to a TLS handshake either`, error, run, since(started));
      if (mode.tlsError) step.details.push(['TLS', mode.tlsError]);
      steps.push(step);
      return false;
    }
  }
}

/** The login resilient()'s inner transport would send (nodemailer's own getAuth), or undefined. */
function authOf(smtp: SmtpOptions): unknown {
  if (!smtp.auth) return undefined;
  const { pool: _pool, ...single } = smtp;
  const transport = createSmtpTransport(single) as unknown as { auth?: unknown; close?(): void };
  const auth = transport.auth;
  transport.close?.();
  return auth || undefined;
}

function ehloStep(session: SmtpSession, offer: Offer, run: Run, durationMs: number): Step {
  const { input } = run;
  const source = { name: 'the name option', sender: "the sender's domain", fallback: 'no sender domain: the fallback' }[input.ehloNameSource];
  const step = newStep('ehlo', 'pass', offer.keywords ? `EHLO ${input.ehloName} accepted` : `EHLO refused; HELO ${input.ehloName} accepted`, durationMs);
  step.details.push(['name', `${input.ehloName} (${source})`]);
  step.details.push(['STARTTLS', offer.startTls ? (session.startTlsMs !== undefined ? `offered, used (${session.startTlsMs} ms)` : 'offered, not used') : session.secure ? 'not needed (implicit TLS)' : 'not offered']);
  step.details.push(['AUTH', offer.authOffered ? offer.authMechanisms.join(' ') || '(no mechanism nodemailer knows)' : 'not offered']);
  step.details.push(['SIZE', offer.size === undefined ? 'not offered' : offer.size === 0 ? 'offered, no limit given' : `${(offer.size / 1_048_576).toFixed(1)} MB`]);
  for (const warning of input.config.destinations[0]!.warnings) {
    if (/name/.test(warning)) {
      step.status = 'warn';
      step.details.push(['warning', warning]);
    }
  }
  if (!session.secure && offer.startTls === false) {
    step.status = 'warn';
    step.details.push(['risk', 'no TLS: the login and the mail cross the network in plaintext']);
  }
  return step;
}

/** Everything after the server's first bytes, on one nodemailer connection. */
async function runSession(run: Run): Promise<Step[]> {
  const { input } = run;
  const steps: Step[] = [];
  const session = new SmtpSession({ smtp: run.smtp, name: input.ehloName, timeoutMs: input.timeout });
  const rest = (from: StepId, why: string) => steps.push(...skipped(SESSION_STEPS.slice(SESSION_STEPS.indexOf(from)), why));
  try {
    let started = performance.now();
    try {
      await session.connect();
    } catch (raw) {
      const error = classify(raw, run);
      if (isTlsFailure(error)) {
        // Read the certificate the handshake refused, without sending anything over it.
        const inspected = run.mode?.mode === 'tls' ? run.mode.certificate : await inspectCertificate(run);
        const step = failed('certificate', inspected ? describeCertificate(inspected) : 'the TLS handshake failed', error, run, since(started), { certificate: inspected });
        if (inspected) step.details.push(['names', inspected.altNames.join(', ') || '(none)'], ['verdict', inspected.authorizationError ?? 'refused']);
        steps.push(step);
        rest('ehlo', 'not reached: TLS failed');
      } else {
        steps.push(newStep('certificate', 'skip', 'not reached'));
        const step = failed('ehlo', error.name === 'HeloRejectedError' ? `the server refused EHLO ${input.ehloName}` : 'the session did not start', error, run, since(started));
        if (session.greeting) step.details.push(['greeting', session.greeting.split('\n')[0]!]);
        steps.push(step);
        rest('auth', 'not reached');
      }
      return steps;
    }
    const setupMs = since(started);
    const offer = session.offer();
    const tlsSocket = session.tlsSocket;
    if (tlsSocket) {
      const facts = certificateFacts(tlsSocket);
      steps.push(certificateStep(facts, run, session.startTlsMs ?? session.connectedMs ?? 0));
    } else {
      steps.push(newStep('certificate', run.smtp.auth ? 'warn' : 'skip', offer.startTls ? 'STARTTLS offered but not used (ignoreTLS)' : 'no TLS on this connection'));
    }
    steps.push(ehloStep(session, offer, run, setupMs - (session.connectedMs ?? 0) - (session.startTlsMs ?? 0)));

    // AUTH: needed, offered, accepted; resilient() logs in only when the server offers AUTH.
    started = performance.now();
    const auth = authOf(run.smtp);
    const dropped = input.config.destinations[0]!.notes.find((n) => /AUTH is skipped/.test(n));
    const authStep = newStep('auth', 'skip', '');
    const offered = offer.authOffered ? `offered (${offer.authMechanisms.join(' ') || 'no known mechanism'})` : 'not offered';
    if (auth && (offer.authOffered || run.smtp['forceAuth'])) {
      try {
        await session.login(auth);
        authStep.status = 'pass';
        authStep.summary = `${offered}; accepted for ${JSON.stringify(input.smtp.auth?.user ?? '')}`;
      } catch (raw) {
        const error = classify(raw, run);
        steps.push(failed('auth', `${offered}; the login was refused`, error, run, since(started)));
        rest('mail', 'not reached: the login failed');
        return steps;
      }
    } else if (auth) {
      authStep.status = 'warn';
      authStep.summary = `${offered}: resilient() sends no login although one is set${session.secure ? '' : ' (many servers offer AUTH only over TLS)'}`;
    } else {
      authStep.summary = `${offered}; no login configured${dropped ? ` (${dropped})` : ''}`;
    }
    authStep.durationMs = since(started);
    steps.push(authStep);

    // MAIL FROM: the sender resilient() would use.
    started = performance.now();
    try {
      assertSender(input.fromAddress, input.from);
    } catch (configError) {
      steps.push(failed('mail', 'no sender to try', configError as MailError, run, 0));
      rest('rcpt', 'not reached: no sender');
      return steps;
    }
    const from = input.fromAddress!;
    const utf8 = /[\x80-\uFFFF]/.test(from) && session.connection._supportedExtensions.includes('SMTPUTF8') ? ' SMTPUTF8' : '';
    const mailReply = await session.command(`MAIL FROM:<${from}>${utf8}`);
    if (!mailReply.startsWith('2')) {
      const error = classify(session.replyError('Mail command failed', mailReply, 'MAIL FROM'), run);
      steps.push(failed('mail', `${from} refused`, error, run, since(started)));
      markAuthNeeded(steps, error);
      rest('rcpt', 'not reached: the sender was refused');
      return steps;
    }
    steps.push(newStep('mail', 'pass', `${from} accepted: ${mailReply.split('\n')[0]}`, since(started)));

    // RCPT TO: --to, or the sender's own address (nothing is sent without --to).
    started = performance.now();
    const recipient = { address: input.to ?? from, fromTo: input.to !== undefined };
    const rcptReply = await session.command(`RCPT TO:<${recipient.address}>`);
    if (!rcptReply.startsWith('2')) {
      const perRecipient = session.replyError('Recipient command failed', rcptReply, 'RCPT TO');
      perRecipient.recipient = recipient.address;
      // As nodemailer reports a transaction whose every recipient was refused.
      const raw = Object.assign(session.replyError("Can't send mail - all recipients were rejected", rcptReply, 'RCPT TO'), {
        rejected: [recipient.address],
        rejectedErrors: [perRecipient],
      });
      const error = classify(raw, run);
      steps.push(failed('rcpt', `${recipient.address} refused`, error, run, since(started), { recipient }));
      markAuthNeeded(steps, error);
      rest('data', 'not reached: the recipient was refused');
      await session.reset().catch(() => undefined);
      return steps;
    }
    steps.push(newStep('rcpt', 'pass', `${recipient.address} accepted: ${rcptReply.split('\n')[0]}${recipient.fromTo ? '' : " (the sender's own address; --to tries another)"}`, since(started)));

    // DATA only with --to: a real message. Otherwise RSET, and nothing is sent.
    started = performance.now();
    await session.reset();
    if (!input.to) {
      steps.push(newStep('data', 'skip', 'not sent: no --to given (the transaction was reset after RCPT TO)'));
      return steps;
    }
    const message = await composeTestMessage(input.from!, input.to, 'nodemailer-resilient doctor: test message', 'This message was sent by `nodemailer-resilient doctor --to` to check that sending works.\n');
    let bodySent = false;
    const stream = Readable.from([message]);
    stream.once('end', () => {
      bodySent = true;
    });
    try {
      const info = await session.send({ from, to: [input.to] }, stream);
      steps.push(newStep('data', 'pass', `${message.length} bytes accepted: ${(info.response ?? '').split('\n')[0]}`, since(started)));
    } catch (raw) {
      steps.push(failed('data', 'the message was not accepted', classify(raw, run, { bodySent }), run, since(started), { recipient }));
    }
    return steps;
  } catch (raw) {
    // The connection failed between two steps.
    const error = classify(raw, run);
    const at = SESSION_STEPS.find((id) => !steps.some((s) => s.id === id)) ?? 'data';
    steps.push(failed(at, 'the connection failed', error, run, 0));
    rest(SESSION_STEPS[SESSION_STEPS.indexOf(at) + 1] ?? 'data', 'not reached');
    return steps.filter((s, i, all) => all.findIndex((t) => t.id === s.id) === i);
  } finally {
    session.close();
  }
}

/** When the server refused MAIL or RCPT for want of a login, the AUTH row says it was needed. */
function markAuthNeeded(steps: Step[], error: MailError): void {
  const auth = steps.find((s) => s.id === 'auth');
  if (auth && error.name === 'AuthError' && auth.status !== 'pass') {
    auth.status = 'fail';
    auth.summary = `needed: the server refused ${error.command ?? 'the transaction'} without a login; ${auth.summary}`;
  }
}

/** The certificate of a STARTTLS server whose handshake was refused: a session that verifies nothing and sends nothing. */
async function inspectCertificate(run: Run): Promise<CertificateFacts | undefined> {
  const { auth: _auth, ...smtp } = run.smtp;
  const probe = new SmtpSession({ smtp: { ...smtp, tls: { ...smtp.tls, rejectUnauthorized: false } }, name: run.input.ehloName, timeoutMs: run.input.timeout });
  try {
    await probe.connect();
    return probe.tlsSocket ? certificateFacts(probe.tlsSocket) : undefined;
  } catch {
    return undefined;
  } finally {
    probe.close();
  }
}

const isTemporary = (step: Step | undefined): step is Step & { error: MailError } =>
  !!step?.error && step.error.retryable && step.error.responseCode !== undefined && step.error.responseCode >= 400 && step.error.responseCode < 500;

/**
 * Runs every check against the server the configuration names. Never
 * throws for a server's failure: each one is a step with the error
 * resilient() would raise and the fix.
 */
export async function diagnose(input: DoctorInput): Promise<Report> {
  const started = performance.now();
  const run: Run = { input, smtp: input.smtp, assumed: [], mode: undefined };
  const steps: Step[] = [];
  if (!(await firstContact(run, steps))) {
    const done = new Set(steps.map((s) => s.id));
    steps.push(...skipped((['resolve', 'connect', 'tls-mode', ...SESSION_STEPS] as StepId[]).filter((id) => !done.has(id)), 'not reached'));
    return finishReport(steps, started);
  }
  let sessionSteps = await runSession(run);
  // A temporary reply is what resilient() retries: the doctor retries it once too.
  const temporary = sessionSteps.find((s) => s.status === 'fail');
  if (isTemporary(temporary) && input.config.retry) {
    const wait = Math.min(input.config.retry.minTimeout, MAX_RETRY_WAIT_MS);
    await sleep(wait);
    const retried = await runSession(run);
    const again = retried.find((s) => s.id === temporary.id);
    if (again && again.status !== 'fail') {
      again.status = 'warn';
      again.summary = `${again.summary}; the first attempt got ${temporary.error.responseCode} (${temporary.error.name}, retryable): resilient() retried it, and the retry after ${wait} ms passed`;
      again.details.unshift(['1st attempt', temporary.error.response ?? temporary.error.message]);
    } else if (again?.error) {
      again.details.unshift(['retried', `after ${wait} ms, the same step failed again; resilient() would retry ${input.config.retry.retries} times within ${input.config.retry.maxRetryTime / 1000} s`]);
    }
    sessionSteps = retried;
  }
  if (run.assumed.length) for (const step of sessionSteps) if (step.status !== 'skip') step.assumed = [...run.assumed];
  steps.push(...sessionSteps);
  return finishReport(steps, started);
}
