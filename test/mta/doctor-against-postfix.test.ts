/**
 * `nodemailer-resilient doctor` as a subprocess against the project's real
 * Postfix (see postfix/README.md for the listeners): each classic failure is
 * named with the class resilient() raises and the config line to change,
 * a healthy listener passes, and the SASL password is never printed.
 *
 * Ports here are random, so "the port decides TLS" never applies: every run
 * sets SMTP_SECURE explicitly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DoctorCli, buildDoctorCli, causeOf, fixLinesOf, runDoctor, runDoctorBoth, secretForms } from '../helpers/doctor-cli.js';
import { countDelivered, loadMta, uniqueAddress, type Listener } from './helpers.js';

const mta = loadMta();
const WRONG = `wrong-${Math.random().toString(36).slice(2, 12)}`;
const SECRETS = [...secretForms(mta.user, mta.pass), ...secretForms(mta.user, WRONG)];

let cli: DoctorCli;
beforeAll(async () => {
  cli = await buildDoctorCli();
});
afterAll(() => cli?.remove());

function envFor(listener: Listener, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SMTP_HOST: mta.host,
    SMTP_PORT: String(mta.ports[listener]),
    SMTP_SECURE: 'false',
    SMTP_USERNAME: mta.user,
    SMTP_PASSWORD: mta.pass,
    SMTP_FROM: `App <${uniqueAddress('doctor')}>`,
    ...extra,
  };
}

const doctor = (args: string[], env: Record<string, string>) => runDoctorBoth(cli, args, env, SECRETS);
const withCa = ['--ca', mta.caFile];

describe('doctor against Postfix', () => {
  it('passes every step on SUBMISSION587 (STARTTLS, AUTH required) with the right settings', async () => {
    const { text, json } = await doctor(withCa, envFor('SUBMISSION587'));
    expect(text.code, text.stdout).toBe(0);
    const status = Object.fromEntries(json.json!.steps.map((s) => [s.id, s.status]));
    expect(status).toMatchObject({ 'tls-mode': 'pass', certificate: 'pass', ehlo: 'pass', auth: 'pass', mail: 'pass', rcpt: 'pass', data: 'skip' });
    expect(text.stdout).toMatch(/STARTTLS\s+offered, used/);
    expect(text.stdout).toMatch(/AUTH\s+PLAIN LOGIN/);
    expect(text.stdout).toMatch(/SIZE\s+\d/);
  });

  it('passes on SMTPS465 (implicit TLS) with secure true', async () => {
    const { text } = await doctor(withCa, envFor('SMTPS465', { SMTP_SECURE: 'true' }));
    expect(text.code, text.stdout).toBe(0);
    expect(text.stdout).toMatch(/implicit TLS/);
  });

  it('delivers exactly one message with --to', async () => {
    const to = uniqueAddress('doctor-to');
    const run = await runDoctor(cli, [...withCa, '--to', to, '--json'], envFor('SUBMISSION587'));
    expect(run.code, run.stdout).toBe(0);
    expect(run.json!.steps.find((s) => s.id === 'data')).toMatchObject({ status: 'pass', summary: expect.stringMatching(/queued as/) });
    expect(await countDelivered(to)).toBe(1);
  });

  it('sends nothing without --to (RCPT TO, then RSET)', async () => {
    const from = uniqueAddress('doctor-norcpt');
    const run = await runDoctor(cli, [...withCa, '--json'], envFor('SUBMISSION587', { SMTP_FROM: from }));
    expect(run.code).toBe(0);
    expect(await countDelivered(from)).toBe(0);
  });

  it('names secure: true on the STARTTLS port: TlsError, SMTP_SECURE=false', async () => {
    const { text, json } = await doctor(withCa, envFor('SUBMISSION587', { SMTP_SECURE: 'true' }));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'tls-mode', error: { name: 'TlsError', retryable: false } });
    expect(fixLinesOf(json)).toEqual(['SMTP_SECURE=false']);
  });

  it('names secure: false on the implicit-TLS port: TlsError, SMTP_SECURE=true, without a greeting timeout', async () => {
    const { text, json } = await doctor(withCa, envFor('SMTPS465', { SMTP_SECURE: 'false' }));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'tls-mode', error: { name: 'TlsError', code: 'ETIMEDOUT' } });
    expect(fixLinesOf(json)).toEqual(['SMTP_SECURE=true']);
    // Everything after it is checked with the fix assumed, and passes.
    expect(json.json!.steps.find((s) => s.id === 'auth')).toMatchObject({ status: 'pass', assumed: ['SMTP_SECURE=true'] });
  });

  it('names empty credentials where AUTH is required: AuthError at RCPT TO, set both variables', async () => {
    const { text, json } = await doctor(withCa, envFor('SUBMISSION587', { SMTP_USERNAME: '', SMTP_PASSWORD: '' }));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'rcpt', error: { name: 'AuthError', responseCode: 554, response: expect.stringMatching(/Access denied/) } });
    expect(fixLinesOf(json)).toEqual(['SMTP_USERNAME=<login>', 'SMTP_PASSWORD=<password>']);
    expect(json.json!.steps.find((s) => s.id === 'auth')?.status).toBe('fail');
  });

  it('lets empty credentials through to a relay that needs no AUTH (NOAUTH587)', async () => {
    const { text, json } = await doctor(withCa, envFor('NOAUTH587', { SMTP_USERNAME: '', SMTP_PASSWORD: '' }));
    expect(text.code, text.stdout).toBe(0);
    expect(json.json!.config.notes).toContain('`auth.user` and `auth.pass` are empty: AUTH is skipped');
  });

  it('names a wrong password: AuthError 535', async () => {
    const { text, json } = await doctor(withCa, envFor('SUBMISSION587', { SMTP_PASSWORD: WRONG }));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'auth', error: { name: 'AuthError', responseCode: 535, retryable: false } });
    expect(fixLinesOf(json)).toEqual(['SMTP_PASSWORD=<the right password>']);
  });

  it('names the untrusted (self-signed) certificate: TlsError, and the CA to add', async () => {
    const { text, json } = await doctor([], envFor('SUBMISSION587'));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'certificate', error: { name: 'TlsError', retryable: false } });
    expect(fixLinesOf(json)).toEqual([`NODE_EXTRA_CA_CERTS=/path/to/${mta.host}-ca.pem`]);
    expect(text.stdout).toContain(`CN=${mta.tlsServername}, self-signed`);
  });

  it('names a refused EHLO name at RCPT TO (HELOSTRICT): HeloRejectedError, and the name to use', async () => {
    const { text, json } = await doctor(['--name', 'localhost'], envFor('HELOSTRICT', { SMTP_USERNAME: '', SMTP_PASSWORD: '' }));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'rcpt', error: { name: 'HeloRejectedError', responseCode: 550 } });
    expect(fixLinesOf(json)).toEqual(['name: "mta.test"']);
  });

  it('names a refused EHLO name at EHLO itself (HELOSTRICT_EARLY)', async () => {
    const { text, json } = await doctor(['--name', 'localhost'], envFor('HELOSTRICT_EARLY', { SMTP_USERNAME: '', SMTP_PASSWORD: '' }));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'ehlo', error: { name: 'HeloRejectedError', responseCode: 550 } });
    expect(fixLinesOf(json)).toEqual(['name: "mta.test"']);
  });

  it('passes HELOSTRICT when the name comes from the sender, as resilient() does by default', async () => {
    const { text } = await doctor([], envFor('HELOSTRICT', { SMTP_USERNAME: '', SMTP_PASSWORD: '' }));
    expect(text.code, text.stdout).toBe(0);
    expect(text.stdout).toMatch(/EHLO name\s+mta\.test/);
  });

  it('names an unverified sender domain (SENDERCHECK): SenderRejectedError, change SMTP_FROM', async () => {
    const { text, json } = await doctor([], envFor('SENDERCHECK', { SMTP_USERNAME: '', SMTP_PASSWORD: '' }));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'mail', error: { name: 'SenderRejectedError', responseCode: 550, retryable: false } });
    expect(fixLinesOf(json)).toEqual(['SMTP_FROM=no-reply@<a verified domain>']);
  });

  it('retries a 451 at MAIL FROM once and reports it still failing (TEMPFAIL)', async () => {
    const run = await runDoctor(cli, ['--json'], envFor('TEMPFAIL', { SMTP_USERNAME: '', SMTP_PASSWORD: '', SMTP_FROM: 'tempfail@mta.test' }));
    expect(run.code).toBe(1);
    const mail = causeOf(run)!;
    expect(mail).toMatchObject({ id: 'mail', error: { name: 'SenderRejectedError', responseCode: 451, retryable: true } });
    expect(mail.fixes).toEqual([]);
  });
});
