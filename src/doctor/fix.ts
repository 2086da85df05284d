import { domainOf } from '../config/ehlo-name.js';
import type { MailError } from '../errors/mail-error.js';
import type { CertificateFacts } from './certificate.js';
import { type DoctorInput, ENV_NAMES, type Field } from './input.js';
import type { Fix } from './report.js';

type UrlField = 'host' | 'port' | 'secure' | 'user';

const quote = (value: string): string => (/^[\w.@:/<>*+-]*$/.test(value) && !/[<>]/.test(value) ? value : JSON.stringify(value));

/** The variable a fix should set: the one the value came from, else the first name apps use. */
function variable(input: DoctorInput, field: Exclude<Field, 'name'>): string {
  const origin = input.origins[field];
  return origin?.kind === 'env' ? origin.name : ENV_NAMES[field][0]!;
}

/**
 * The line that sets one connection setting. When a URL gave the settings,
 * the fix is that URL with the one part changed (password masked).
 */
export function settingLine(input: DoctorInput, field: UrlField, value: string | boolean | number): string {
  if (input.url) {
    const url = new URL(input.url.redacted);
    if (field === 'secure') url.protocol = value === true ? 'smtps:' : 'smtp:';
    if (field === 'port') url.port = String(value);
    if (field === 'host') url.hostname = String(value);
    if (field === 'user') url.username = encodeURIComponent(String(value));
    const name = input.url.origin.kind === 'env' ? input.url.origin.name : 'SMTP_URL';
    return `${name}=${url.toString().replace(/:\*\*\*@|%2A%2A%2A@/, ':***@')}`;
  }
  return `${variable(input, field)}=${quote(String(value))}`;
}

function credentialLines(input: DoctorInput): string[] {
  return [`${variable(input, 'user')}=<login>`, `${variable(input, 'pass')}=<password>`];
}

/** What the doctor saw that a fix can name. */
export interface FixContext {
  certificate?: CertificateFacts | undefined;
  /** The address RCPT TO was tried with, and whether it came from --to. */
  recipient?: { address: string; fromTo: boolean } | undefined;
}

const reply = (err: MailError): string => (err.response ? ` (${err.response.split('\n')[0]!.slice(0, 120)})` : '');

function tlsFixes(err: MailError, input: DoctorInput, context: FixContext): Fix[] {
  const host = input.smtp.host!;
  const cert = context.certificate;
  const text = `${err.message} ${err.hint}`;
  if (/expired|not yet valid/i.test(text)) {
    return [{ line: `# ask the operator of ${host} to renew its certificate`, why: cert ? `it is valid to ${cert.validTo}` : 'it is expired or not yet valid' }];
  }
  if (/another host|altnames|does not match/i.test(text)) {
    const name = cert?.altNames.find((n) => /[a-z]/i.test(n) && !n.includes('*'));
    return name
      ? [{ line: settingLine(input, 'host', name), why: `the certificate is for ${cert!.altNames.join(', ')}, not ${host}` }]
      : [{ line: `tls: { servername: "<a name on the certificate>" }`, why: `the certificate is not for ${host}` }];
  }
  if (/not trusted|self[- ]signed|issuer|verify/i.test(text)) {
    const what = cert ? `the certificate (CN=${cert.subject}, ${cert.selfSigned ? 'self-signed' : `issued by ${cert.issuer}`})` : "the server's certificate";
    return [
      { line: `NODE_EXTRA_CA_CERTS=/path/to/${host}-ca.pem`, why: `${what} is not signed by a CA Node trusts; or in code: tls: { ca: [readFileSync(...)] }` },
    ];
  }
  if (/STARTTLS/i.test(text) && /ignoreTLS/i.test(err.hint)) {
    return [{ line: 'ignoreTLS: false', why: 'the server only takes mail over TLS' }];
  }
  return [];
}

function authFixes(err: MailError, input: DoctorInput): Fix[] {
  const configured = input.smtp.auth !== undefined;
  const emptied = input.config.destinations[0]!.notes.some((n) => /empty: AUTH is skipped/.test(n));
  if (/offers no AUTH/.test(err.hint)) {
    return [{ line: `${variable(input, 'user')}=  ${variable(input, 'pass')}=`, why: 'this server offers no AUTH: leave both empty' }];
  }
  if (!configured || /Missing credentials/i.test(err.message)) {
    const why = emptied ? 'the server needs a login, and both are empty here: check they are set where the app runs' : 'the server needs a login';
    return credentialLines(input).map((line) => ({ line, why }));
  }
  if (/two-factor/i.test(err.hint)) {
    return [{ line: `${variable(input, 'pass')}=<an app password>`, why: `the account has two-factor sign-in${reply(err)}` }];
  }
  if (err.retryable) return [];
  const user = typeof input.smtp.auth?.user === 'string' ? input.smtp.auth.user : '';
  return [
    {
      line: `${variable(input, 'pass')}=<the right password>`,
      why: `the server refused the login for ${JSON.stringify(user)}${reply(err)}; check ${variable(input, 'user')} too (many providers want the full address, and an API key or app password)`,
    },
  ];
}

function heloFixes(input: DoctorInput): Fix[] {
  const senderDomain = input.fromAddress ? domainOf(input.fromAddress) : undefined;
  if (input.ehloNameSource === 'name') {
    return senderDomain
      ? [{ line: `name: ${JSON.stringify(senderDomain)}`, why: `or leave name out: resilient() then says EHLO with the sender's domain, ${senderDomain}; ${JSON.stringify(input.ehloName)} is refused` }]
      : [{ line: 'name: "mail.<your domain>"', why: `${JSON.stringify(input.ehloName)} is refused: use a fully qualified name of your sending domain` }];
  }
  if (input.ehloNameSource === 'fallback') {
    return [{ line: `${variable(input, 'from')}=no-reply@<your domain>`, why: `the EHLO name comes from the sender's domain; without one it is ${JSON.stringify(input.ehloName)}` }];
  }
  return [{ line: `name: "mail.${senderDomain ?? '<your domain>'}"`, why: `the server refused EHLO ${input.ehloName}: give a name that resolves to this host` }];
}

function connectionFixes(err: MailError, input: DoctorInput): Fix[] {
  const host = input.smtp.host!;
  const where = `${host}:${input.port}`;
  const text = `${err.message} ${(err as { cause?: { originalCode?: string } }).cause?.originalCode ?? ''}`;
  if (/ENOTFOUND|EAI_AGAIN|does not resolve/i.test(`${text} ${err.hint}`)) {
    return [{ line: settingLine(input, 'host', '<the right host name>'), why: `${JSON.stringify(host)} does not resolve` }];
  }
  if (/ECONNREFUSED/.test(text)) {
    return [{ line: settingLine(input, 'port', '<the port your provider gives>'), why: `nothing accepts connections at ${where} (587 is STARTTLS, 465 implicit TLS)` }];
  }
  if (/Connection timeout|CONNECT_TIMEOUT/i.test(text)) {
    return input.port === 25
      ? [{ line: settingLine(input, 'port', 587), why: `no answer at ${where}: many networks block outgoing port 25` }]
      : [{ line: `# allow outgoing connections to ${where}`, why: 'no answer at all: a firewall drops the connection, or the host or port is wrong' }];
  }
  return [];
}

/** The config lines that fix a failure resilient() would raise, where there is one to change. */
export function fixesFor(err: MailError, input: DoctorInput, context: FixContext = {}): Fix[] {
  switch (err.name) {
    case 'ConfigError':
      return /sender/i.test(err.message) ? [{ line: `${variable(input, 'from')}="App <no-reply@example.com>"`, why: 'no usable sender is set' }] : [];
    case 'TlsError':
      return tlsFixes(err, input, context);
    case 'AuthError':
      return authFixes(err, input);
    case 'HeloRejectedError':
      return heloFixes(input);
    case 'SenderRejectedError':
      return err.retryable
        ? []
        : [{ line: `${variable(input, 'from')}=no-reply@<a verified domain>`, why: `the server refuses ${input.fromAddress ?? 'the sender'}: send from a domain verified with the provider` }];
    case 'RecipientsRejectedError':
      return context.recipient && !context.recipient.fromTo && !err.retryable
        ? [{ line: '--to <a real recipient>', why: `RCPT TO was tried with the sender's own address, ${context.recipient.address}; try an address you send to` }]
        : [];
    case 'ConnectionError':
      return connectionFixes(err, input);
    default:
      return [];
  }
}
