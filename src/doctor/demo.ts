import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDoctorArgs } from './args.js';
import type { ExitCode, Io } from './command.js';
import { DEMO_PASS, DEMO_USER, type DemoServerOptions, demoKit } from './demo-server.js';
import { diagnose } from './diagnose.js';
import { readInput } from './input.js';
import { reportJson } from './render-json.js';
import { renderCompact } from './render-text.js';
import type { Style } from './style.js';

interface Scenario {
  title: string;
  /** What a newcomer should take from it. */
  lesson: string;
  server: DemoServerOptions;
  env: Record<string, string>;
  flags?: string[];
  /** The diagnosis the demo exists to show: the exit code and the class of the first failure. */
  expect: { exitCode: 0 | 1; error?: string };
}

const FROM = 'App <app@example.com>';
const login = { SMTP_USER: DEMO_USER, SMTP_PASS: DEMO_PASS };

/** Senders refused once, then accepted: greylisting, the classic 4xx that a retry fixes. */
const greylisted = new Set<string>();

const SCENARIOS: Scenario[] = [
  {
    title: 'A healthy server: STARTTLS, login required',
    lesson: 'Every step passes; this is what "sending would work" looks like.',
    server: { tls: 'starttls', auth: 'required' },
    env: { SMTP_SECURE: 'false', ...login, SMTP_FROM: FROM },
    expect: { exitCode: 0 },
  },
  {
    title: 'secure: true against a STARTTLS port',
    lesson: 'Found from the plaintext greeting at once, not after a timeout. On port 587 resilient() corrects this by itself.',
    server: { tls: 'starttls', auth: 'required' },
    env: { SMTP_SECURE: 'true', ...login, SMTP_FROM: FROM },
    expect: { exitCode: 1, error: 'TlsError' },
  },
  {
    title: 'secure: false against an implicit-TLS port',
    lesson: 'The server waits for a TLS hello; nodemailer would wait 30 s for a greeting. The doctor tells in 1.5 s.',
    server: { tls: 'implicit', auth: 'required' },
    env: { SMTP_SECURE: 'false', ...login, SMTP_FROM: FROM },
    expect: { exitCode: 1, error: 'TlsError' },
  },
  {
    title: 'Empty credentials against a relay that offers AUTH',
    lesson: 'Plain nodemailer fails with Missing credentials for "PLAIN"; resilient() drops the empty login and sends.',
    server: { tls: 'starttls', auth: 'optional' },
    env: { SMTP_SECURE: 'false', SMTP_USERNAME: '', SMTP_PASSWORD: '', SMTP_FROM: FROM },
    expect: { exitCode: 0 },
  },
  {
    title: 'EHLO name refused (name: "localhost")',
    lesson: 'Strict servers refuse localhost; without name, resilient() says EHLO with the sender\'s domain.',
    server: {
      tls: 'starttls',
      auth: 'required',
      onRcptTo: (_address, session) =>
        /^(localhost|[^.]+)$/i.test(session.hostNameAppearsAs)
          ? { code: 550, message: `5.7.1 <${session.hostNameAppearsAs}>: Helo command rejected: Don't use hostname localhost` }
          : undefined,
    },
    env: { SMTP_SECURE: 'false', ...login, SMTP_FROM: FROM },
    flags: ['--name', 'localhost'],
    expect: { exitCode: 1, error: 'HeloRejectedError' },
  },
  {
    title: 'Sender domain not verified with the provider',
    lesson: 'A 5xx at MAIL FROM is not retried: only another sender helps.',
    server: {
      tls: 'starttls',
      auth: 'required',
      onMailFrom: (address) =>
        address.endsWith('@verified.example') ? undefined : { code: 550, message: `5.7.1 <${address}>: Sender address rejected: This domain is not associated with your account` },
    },
    env: { SMTP_SECURE: 'false', ...login, SMTP_FROM: 'App <app@unverified.example>' },
    expect: { exitCode: 1, error: 'SenderRejectedError' },
  },
  {
    title: 'A 4xx that a retry fixes (greylisting)',
    lesson: 'resilient() retries a temporary reply; the doctor retries once too, and the second attempt passes.',
    server: {
      tls: 'starttls',
      auth: 'required',
      onRcptTo: (address) => {
        if (greylisted.has(address)) return undefined;
        greylisted.add(address);
        return { code: 451, message: '4.7.1 Greylisted: please try again later' };
      },
    },
    env: { SMTP_SECURE: 'false', ...login, SMTP_FROM: 'App <grey@example.com>' },
    expect: { exitCode: 0 },
  },
  {
    title: 'Wrong password',
    lesson: 'A 535 is not retried: it would only lock the account.',
    server: { tls: 'starttls', auth: 'required' },
    env: { SMTP_SECURE: 'false', SMTP_USER: DEMO_USER, SMTP_PASS: 'not-the-password', SMTP_FROM: FROM },
    expect: { exitCode: 1, error: 'AuthError' },
  },
];

function shellLine(env: Record<string, string>, flags: string[]): string {
  const quote = (v: string) => (/^[\w.@:/-]*$/.test(v) && v !== '' ? v : JSON.stringify(v));
  return [...Object.entries(env).map(([k, v]) => `${k}=${/PASS/.test(k) && v ? '***' : quote(v)}`), 'nodemailer-resilient doctor', ...flags.map(quote)].join(' ');
}

/** `doctor --demo`: every classic failure against an embedded server, and its diagnosis. */
export async function runDemo(options: { json: boolean; style: Style; io: Io }): Promise<ExitCode> {
  const { style, io } = options;
  const kit = await demoKit();
  const dir = mkdtempSync(join(tmpdir(), 'nodemailer-resilient-demo-'));
  const caFile = join(dir, 'demo-ca.pem');
  writeFileSync(caFile, kit.cert);
  try {
    // Each scenario has its own server, so they run side by side and print in order.
    const results = await Promise.all(
      SCENARIOS.map(async (scenario) => {
        const server = await kit.start(scenario.server);
        try {
          const env = { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(server.port), ...scenario.env };
          const flags = [...(scenario.flags ?? []), '--ca', caFile, '--timeout', '5000'];
          const input = readInput(parseDoctorArgs(flags), env);
          const report = await diagnose(input);
          const error = report.failure?.error?.name;
          const asExpected = report.exitCode === scenario.expect.exitCode && error === scenario.expect.error;
          return { scenario, env, input, report, asExpected };
        } finally {
          await server.close();
        }
      }),
    );
    const ok = results.every((r) => r.asExpected);
    if (options.json) {
      const json = {
        ok,
        exitCode: ok ? 0 : 1,
        scenarios: results.map((r) => ({ title: r.scenario.title, lesson: r.scenario.lesson, expected: r.scenario.expect, asExpected: r.asExpected, report: reportJson(r.report, r.input) })),
      };
      io.stdout.write(results.reduce((text, r) => r.input.redact(text), `${JSON.stringify(json, null, 2)}\n`));
      return ok ? 0 : 1;
    }
    const out: string[] = [
      style.bold('nodemailer-resilient doctor --demo'),
      style.dim('Embedded SMTP servers on 127.0.0.1 reproduce the classic failures; each is diagnosed as `doctor` would diagnose yours.'),
      '',
    ];
    results.forEach((r, i) => {
      const flags = (r.scenario.flags ?? []).concat('--ca', 'demo-ca.pem');
      out.push(style.bold(`${i + 1}/${results.length}  ${r.scenario.title}`));
      out.push(style.dim(`  $ ${shellLine({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(r.input.port), ...r.scenario.env }, flags)}`));
      out.push(style.dim(`  ${r.scenario.lesson}`));
      out.push(r.input.redact(renderCompact(r.report, r.input, style)));
      if (!r.asExpected) out.push(style.fail(`  (demo: expected exit ${r.scenario.expect.exitCode}${r.scenario.expect.error ? ` with ${r.scenario.expect.error}` : ''}: this is a bug)`), '');
    });
    out.push(ok ? style.pass('Every diagnosis is as expected.') : style.fail('Some diagnoses were not as expected (see above).'));
    out.push(style.dim('Check your own configuration: SMTP_HOST=... SMTP_PORT=... npx nodemailer-resilient doctor  (--help for every flag)'));
    io.stdout.write(`${out.join('\n')}\n`);
    return ok ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
