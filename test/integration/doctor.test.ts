/**
 * `nodemailer-resilient doctor` run as a subprocess against real smtp-server
 * listeners: for each classic failure, the exit code, the typed error class
 * (the one resilient() raises), the fix as a config line, and that no form
 * of the password is ever printed, in text or JSON.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DoctorCli, buildDoctorCli, causeOf, fixLinesOf, runDoctor, runDoctorBoth, secretForms } from '../helpers/doctor-cli.js';
import { type TestServer, type TestServerOptions, startTestServer } from '../helpers/smtp-server.js';

const USER = 'app@example.com';
const PASS = `s3cret-${Math.random().toString(36).slice(2, 10)}`;
const WRONG = `wrong-${Math.random().toString(36).slice(2, 10)}`;
const SECRETS = [...secretForms(USER, PASS), ...secretForms(USER, WRONG)];

let cli: DoctorCli;
let dir: string;
let caFile: string;
const servers: TestServer[] = [];

beforeAll(async () => {
  cli = await buildDoctorCli();
  dir = mkdtempSync(join(tmpdir(), 'doctor-test-'));
  const probe = await startTestServer();
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, probe.cert);
  await probe.close();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  cli?.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function server(options: TestServerOptions): Promise<TestServer> {
  const started = await startTestServer({ user: USER, pass: PASS, ...options });
  servers.push(started);
  return started;
}

function envFor(s: TestServer, extra: Record<string, string> = {}): Record<string, string> {
  return { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(s.port), SMTP_SECURE: 'false', SMTP_USER: USER, SMTP_PASS: PASS, SMTP_FROM: 'App <app@example.com>', ...extra };
}

const doctor = (args: string[], env: Record<string, string>) => runDoctorBoth(cli, args, env, SECRETS);

describe('doctor against smtp-server', () => {
  it('passes every step against a healthy STARTTLS server and sends nothing without --to', async () => {
    const s = await server({ tls: 'starttls', auth: 'required' });
    const { text, json } = await doctor(['--ca', caFile], envFor(s));
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Result: sending would work');
    expect(json.json!.ok).toBe(true);
    const status = Object.fromEntries(json.json!.steps.map((step) => [step.id, step.status]));
    expect(status).toMatchObject({ resolve: 'pass', connect: 'pass', 'tls-mode': 'pass', certificate: 'pass', ehlo: 'pass', auth: 'pass', mail: 'pass', rcpt: 'pass', data: 'skip' });
    expect(s.messages).toHaveLength(0);
    // The normalised configuration is printed, the password masked.
    expect(text.stdout).toMatch(/auth\s+user "app@example.com", pass \*\*\*/);
    expect(json.json!.config.smtp['auth']).toEqual({ user: USER, pass: '***' });
  });

  it('sends one real message with --to and checks DATA', async () => {
    const s = await server({ tls: 'starttls', auth: 'required' });
    const run = await runDoctor(cli, ['--ca', caFile, '--to', 'you@example.net', '--json'], envFor(s));
    expect(run.code).toBe(0);
    expect(run.json!.steps.find((step) => step.id === 'data')).toMatchObject({ status: 'pass' });
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]).toMatchObject({ from: 'app@example.com', to: ['you@example.net'], ehlo: 'example.com', secure: true, user: USER });
  });

  it('names secure: true against a plaintext (STARTTLS) port as a TlsError with SMTP_SECURE=false', async () => {
    const s = await server({ tls: 'starttls', auth: 'required' });
    const { text, json } = await doctor(['--ca', caFile], envFor(s, { SMTP_SECURE: 'true' }));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'tls-mode', error: { name: 'TlsError', retryable: false } });
    expect(fixLinesOf(json)).toEqual(['SMTP_SECURE=false']);
    expect(text.stdout).toContain(`SMTP_SECURE=false   # port ${s.port} starts in plaintext and upgrades with STARTTLS`);
    // The rest is checked as if the fix were made, and says so.
    expect(json.json!.steps.find((step) => step.id === 'auth')).toMatchObject({ status: 'pass', assumed: ['SMTP_SECURE=false'] });
  });

  it('names secure: false against an implicit-TLS port as a TlsError with SMTP_SECURE=true, without waiting for a greeting timeout', async () => {
    const s = await server({ tls: 'implicit', auth: 'required' });
    const { text, json } = await doctor(['--ca', caFile], envFor(s, { SMTP_SECURE: 'false' }));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'tls-mode', error: { name: 'TlsError', code: 'ETIMEDOUT', retryable: false } });
    expect(fixLinesOf(json)).toEqual(['SMTP_SECURE=true']);
    expect(text.stdout).toContain(`SMTP_SECURE=true   # port ${s.port} speaks TLS from the first byte`);
  });

  it('gives the fix as the URL itself when a URL gave the settings, password masked', async () => {
    const s = await server({ tls: 'starttls', auth: 'required' });
    const url = `smtps://${encodeURIComponent(USER)}:${encodeURIComponent(PASS)}@127.0.0.1:${s.port}`;
    const { text, json } = await doctor(['--ca', caFile], { SMTP_URL: url, SMTP_FROM: 'app@example.com' });
    expect(text.code).toBe(1);
    expect(fixLinesOf(json)).toEqual([`SMTP_URL=smtp://app%40example.com:***@127.0.0.1:${s.port}`]);
  });

  it('names empty credentials against a server that requires AUTH as an AuthError with both variables to set', async () => {
    const s = await server({ tls: 'starttls', auth: 'required' });
    const { text, json } = await doctor(['--ca', caFile], { ...envFor(s), SMTP_USER: '', SMTP_PASS: '' });
    expect(text.code).toBe(1);
    expect(json.json!.config.notes).toContain('`auth.user` and `auth.pass` are empty: AUTH is skipped');
    expect(json.json!.steps.find((step) => step.id === 'auth')).toMatchObject({ status: 'fail', summary: expect.stringMatching(/^needed: the server refused MAIL FROM without a login/) });
    expect(causeOf(json)).toMatchObject({ id: 'mail', error: { name: 'AuthError', responseCode: 530 } });
    expect(json.json!.failure).toMatchObject({ step: 'mail', error: 'AuthError' });
    expect(fixLinesOf(json)).toEqual(['SMTP_USER=<login>', 'SMTP_PASS=<password>']);
    expect(text.stdout).toMatch(/both are empty here/);
  });

  it('names a refused EHLO name as a HeloRejectedError and gives a name to use', async () => {
    const s = await server({
      tls: 'starttls',
      auth: 'required',
      onRcptTo: (_address, session) =>
        session.hostNameAppearsAs === 'localhost' ? { code: 550, message: "5.7.1 <localhost>: Helo command rejected: Don't use hostname localhost" } : undefined,
    });
    const { text, json } = await doctor(['--ca', caFile, '--name', 'localhost'], envFor(s));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'rcpt', error: { name: 'HeloRejectedError', responseCode: 550 } });
    expect(fixLinesOf(json)).toEqual(['name: "example.com"']);
    expect(text.stdout).toMatch(/name "localhost" is refused by many servers/);
  });

  it('names an unverified sender domain as a SenderRejectedError and says to change SMTP_FROM', async () => {
    const s = await server({
      tls: 'starttls',
      auth: 'required',
      onMailFrom: (address) =>
        address.endsWith('@verified.example') ? undefined : { code: 550, message: `5.7.1 <${address}>: Sender address rejected: This domain is not associated with your account` },
    });
    const { text, json } = await doctor(['--ca', caFile], envFor(s, { SMTP_FROM: 'App <app@unverified.example>' }));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'mail', error: { name: 'SenderRejectedError', responseCode: 550, retryable: false } });
    expect(fixLinesOf(json)).toEqual(['SMTP_FROM=no-reply@<a verified domain>']);
  });

  it('names a wrong password as an AuthError (535) and never prints it', async () => {
    const s = await server({ tls: 'starttls', auth: 'required' });
    const { text, json } = await doctor(['--ca', caFile], envFor(s, { SMTP_PASS: WRONG }));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'auth', error: { name: 'AuthError', responseCode: 535, retryable: false } });
    expect(fixLinesOf(json)).toEqual(['SMTP_PASS=<the right password>']);
  });

  it('names an untrusted certificate as a TlsError and sends no credentials over it', async () => {
    let authAttempts = 0;
    const s = await server({
      tls: 'starttls',
      auth: 'required',
      extra: {
        onAuth(_credentials, _session, callback) {
          authAttempts++;
          callback(new Error('no'));
        },
      },
    });
    const { text, json } = await doctor([], envFor(s));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'certificate', error: { name: 'TlsError', retryable: false } });
    expect(fixLinesOf(json)).toEqual(['NODE_EXTRA_CA_CERTS=/path/to/127.0.0.1-ca.pem']);
    expect(text.stdout).toMatch(/CN=mail\.test\.example, self-signed/);
    expect(authAttempts).toBe(0);
  });

  it('names an untrusted certificate on an implicit-TLS port too', async () => {
    const s = await server({ tls: 'implicit', auth: 'required' });
    const { text, json } = await doctor([], envFor(s, { SMTP_SECURE: 'true' }));
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'certificate', error: { name: 'TlsError' } });
    expect(fixLinesOf(json)).toEqual(['NODE_EXTRA_CA_CERTS=/path/to/127.0.0.1-ca.pem']);
  });

  it('retries a 4xx once, as resilient() would, and passes when the retry does', async () => {
    const seen = new Set<string>();
    const s = await server({
      tls: 'starttls',
      auth: 'required',
      onRcptTo: (address) => {
        if (seen.has(address)) return undefined;
        seen.add(address);
        return { code: 451, message: '4.7.1 Greylisted: please try again later' };
      },
    });
    const run = await runDoctor(cli, ['--ca', caFile, '--json'], envFor(s));
    expect(run.code).toBe(0);
    const rcpt = run.json!.steps.find((step) => step.id === 'rcpt')!;
    expect(rcpt.status).toBe('warn');
    expect(rcpt.summary).toMatch(/first attempt got 451 \(RecipientsRejectedError, retryable\)/);
  });

  it('names a server that is not listening as a ConnectionError', async () => {
    const s = await server({ tls: 'starttls' });
    const port = s.port;
    await s.close();
    const { text, json } = await doctor([], { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_FROM: 'app@example.com' });
    expect(text.code).toBe(1);
    expect(causeOf(json)).toMatchObject({ id: 'connect', error: { name: 'ConnectionError' } });
    expect(fixLinesOf(json)).toEqual(['SMTP_PORT="<the port your provider gives>"']);
  });
});

describe('doctor with bad input', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await server({ tls: 'starttls' });
  });

  it.each([
    ['an unknown flag', ['--prot', '25'], {}, /Unknown option '--prot'/],
    ['a port that is not a number', [], { SMTP_PORT: 'abc' }, /Expected `port` to be a whole number from 1 to 65535, got "abc"/],
    ['a URL that does not parse', ['smtp://user:pa:ss@[bad-host'], {}, /The connection URL does not parse/],
    ['a URL of another scheme', ['--url', 'http://127.0.0.1'], {}, /Expected an smtp:\/\/ or smtps:\/\/ URL/],
    ['no host at all', [], { SMTP_HOST: '' }, /No SMTP host is set/],
    ['a --timeout that is not a number', ['--timeout', 'soon'], {}, /Expected --timeout to be a whole number/],
    ['two URLs', ['smtp://a', '--url', 'smtp://b'], {}, /both as an argument and with --url/],
  ])('rejects %s with a clear message, exit 2, no stack trace and no connection', async (_what, args, env, message) => {
    const before = s.connections;
    const base = { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(s.port), SMTP_PASS: PASS, SMTP_USER: USER };
    const run = await runDoctor(cli, args, { ...base, ...env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).toBe('');
    const json = await runDoctor(cli, [...args, '--json'], { ...base, ...env });
    expect(json.code).toBe(2);
    expect(json.json).toMatchObject({ ok: false, exitCode: 2, error: { message: expect.stringMatching(message) } });
    for (const secret of SECRETS) expect(run.stderr + json.stdout).not.toContain(secret);
    expect(s.connections).toBe(before);
  });

  it('never prints the password of a URL it cannot parse', async () => {
    const run = await runDoctor(cli, [`smtp://user:${PASS}@[::1`], {});
    expect(run.code).toBe(2);
    expect(run.stderr + run.stdout).not.toContain(PASS);
  });
});

describe('doctor --help and output form', () => {
  it('explains every flag in --help', async () => {
    const run = await runDoctor(cli, ['--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--host', '--port', '--secure', '--user', '--pass', '--from', '--to', '--url', '--name', '--ca', '--servername', '--insecure', '--timeout', '--json', '--color', '--no-color', '--demo', '--help', '--version']) {
      expect(run.stdout).toContain(flag);
    }
    for (const variable of ['SMTP_HOST', 'SMTP_PORT', 'SMTP_SECURE', 'SMTP_USERNAME', 'SMTP_USER', 'SMTP_PASSWORD', 'SMTP_PASS', 'SMTP_FROM', 'MAIL_FROM', 'SMTP_URL', 'EMAIL_SERVER']) {
      expect(run.stdout).toContain(variable);
    }
  });

  it('prints colour only when asked or on a terminal', async () => {
    const s = await server({ tls: 'starttls', auth: 'required' });
    const piped = await runDoctor(cli, ['--ca', caFile], envFor(s));
    expect(piped.stdout).not.toContain('\u001b[');
    const forced = await runDoctor(cli, ['--ca', caFile, '--color'], envFor(s));
    expect(forced.stdout).toContain('\u001b[32m✓');
  });
});
