import { parseArgs } from 'node:util';

/** A mistake on the command line: told in one sentence, exit code 2, nothing connected. */
export class UsageError extends Error {
  override name = 'UsageError' as const;
  /** What to do instead, in one sentence. */
  readonly hint: string;

  constructor(message: string, hint = 'Run `nodemailer-resilient doctor --help` to see every flag.') {
    super(message);
    this.hint = hint;
  }
}

/** The doctor's flags, as given (strings are checked later by the library's own normalisation). */
export interface DoctorArgs {
  host?: string;
  port?: string;
  secure?: string;
  user?: string;
  pass?: string;
  from?: string;
  to?: string;
  url?: string;
  name?: string;
  ca?: string;
  servername?: string;
  insecure: boolean;
  /** Per network step, in milliseconds. */
  timeout: number;
  json: boolean;
  /** undefined: colour when stdout is a terminal and NO_COLOR is unset. */
  color: boolean | undefined;
  demo: boolean;
  help: boolean;
  version: boolean;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  secure: { type: 'string' },
  user: { type: 'string' },
  pass: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  url: { type: 'string' },
  name: { type: 'string' },
  ca: { type: 'string' },
  servername: { type: 'string' },
  insecure: { type: 'boolean' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  color: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  demo: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export const HELP = `Usage: nodemailer-resilient doctor [options] [smtp-url]

Checks an SMTP configuration against the real server, step by step, with
the same normalisation and error classification as resilient(), and says
for each failure what it is and which setting to change. Without --to no
mail is sent: the check ends after RCPT TO with RSET.

Configuration is read from the environment variables apps already use;
flags override them, and a URL (argument, --url, SMTP_URL or EMAIL_SERVER)
overrides the separate variables, as nodemailer does.

  SMTP_HOST                    server host name or address
  SMTP_PORT                    port (465 implicit TLS; 587, 25, 2525 STARTTLS)
  SMTP_SECURE                  true for implicit TLS, false for STARTTLS/plaintext
  SMTP_USERNAME, SMTP_USER     login (empty: no AUTH)
  SMTP_PASSWORD, SMTP_PASS     password (never printed)
  SMTP_FROM, MAIL_FROM         sender, e.g. "App <no-reply@example.com>"
  SMTP_URL, EMAIL_SERVER       smtp://user:pass@host:587 or smtps://...:465

Options:
  --host HOST          server host (overrides SMTP_HOST)
  --port PORT          server port (overrides SMTP_PORT)
  --secure true|false  implicit TLS from the first byte (overrides SMTP_SECURE)
  --user USER          login name (overrides SMTP_USERNAME / SMTP_USER)
  --pass PASSWORD      password (overrides SMTP_PASSWORD / SMTP_PASS). Prefer the
                       variable: a flag is visible to other users in the process list
  --from ADDRESS       envelope sender (overrides SMTP_FROM / MAIL_FROM)
  --to ADDRESS         send a real test message to ADDRESS (DATA is checked);
                       without it RCPT TO is tried with the sender's address and
                       the transaction is reset: nothing is sent
  --url URL            smtp:// or smtps:// URL (same as the positional argument)
  --name NAME          EHLO name, as the \`name\` option (default: the sender's domain)
  --ca FILE            PEM file with the CA (or self-signed certificate) to trust,
                       as tls.ca
  --servername NAME    TLS server name to verify the certificate against, as
                       tls.servername
  --insecure           do not verify the certificate (tls.rejectUnauthorized:
                       false), for parity with an app that does so; reported as a
                       warning
  --timeout MS         time allowed for each network step (default ${DEFAULT_TIMEOUT_MS})
  --json               print one JSON object (for scripts and CI) instead of text
  --color, --no-color  force colours on or off (default: on for a terminal,
                       off when NO_COLOR is set)
  --demo               run against embedded servers that reproduce the classic
                       failures, and show each diagnosis (needs the smtp-server
                       and selfsigned packages: a clone after npm ci has them)
  -h, --help           show this help
  -v, --version        show the version

Exit codes:
  0  sending would work (warnings may be printed)
  1  a check failed: the report names the cause and the fix
  2  the command line or the configuration is invalid (nothing was connected)
  3  the doctor itself failed (a bug: please report it)

Examples:
  SMTP_HOST=smtp.example.com SMTP_PORT=587 SMTP_USER=app SMTP_PASS=... \\
    SMTP_FROM=no-reply@example.com npx nodemailer-resilient doctor
  npx nodemailer-resilient doctor "smtps://app:...@smtp.example.com:465" --from no-reply@example.com
  npx nodemailer-resilient doctor --to you@example.com    # also send a test message
  npx nodemailer-resilient doctor --json > doctor.json
  npx nodemailer-resilient doctor --demo
`;

function parseTimeout(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT_MS;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(ms) || ms < 100 || ms > 600_000) {
    throw new UsageError(`Expected --timeout to be a whole number of milliseconds from 100 to 600000, got ${JSON.stringify(value)}`);
  }
  return ms;
}

/** Parses the arguments after `doctor`. Throws UsageError. */
export function parseDoctorArgs(argv: readonly string[]): DoctorArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true; args: string[] }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs names the flag ("Unknown option '--prot'"), never a value.
    const message = (err as Error).message.replace(/\. To specify a positional argument starting with a '-'.*$/s, '');
    throw new UsageError(message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    throw new UsageError(`Expected at most one argument (an smtp:// URL), got ${positionals.length}`, 'Pass the URL once, or use --url; quote it if it contains spaces or "&".');
  }
  const positionalUrl = positionals[0];
  if (positionalUrl !== undefined && values.url !== undefined) {
    throw new UsageError('A URL was given both as an argument and with --url', 'Keep one of them.');
  }
  if (values.color && values['no-color']) throw new UsageError('--color and --no-color contradict each other', 'Keep one of them.');
  const url = values.url ?? positionalUrl;
  const out: DoctorArgs = {
    insecure: values.insecure === true,
    timeout: parseTimeout(values.timeout),
    json: values.json === true,
    color: values.color ? true : values['no-color'] ? false : undefined,
    demo: values.demo === true,
    help: values.help === true,
    version: values.version === true,
  };
  for (const key of ['host', 'port', 'secure', 'user', 'pass', 'from', 'to', 'name', 'ca', 'servername'] as const) {
    const value = values[key];
    if (value !== undefined) out[key] = value;
  }
  if (url !== undefined) out.url = url;
  return out;
}
