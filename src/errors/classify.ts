import type { MailErrorName } from './mail-error.js';

/** Everything known about a failure: nodemailer's fields, and where we were. */
export interface FailureFacts {
  code?: string | undefined;
  responseCode?: number | undefined;
  response?: string | undefined;
  command?: string | undefined;
  message?: string | undefined;
  /** nodemailer 10's timeoutType; derived from the message on older majors. */
  timeoutType?: string | undefined;
  /** The underlying system or OpenSSL code (ECONNREFUSED, CERT_HAS_EXPIRED, ...). */
  originalCode?: string | undefined;
  /** nodemailer 10's verdict on the reply class; undefined on 6.x. */
  permanent?: boolean | undefined;
  /** Reply codes of the refused recipients, when nodemailer lists them. */
  rejectedCodes?: number[] | undefined;
  /** True once the whole body, final dot included, was handed to the socket. */
  bodySent?: boolean | undefined;
  secure?: boolean | undefined;
  port?: number | undefined;
  /** `host:port`, for hints. */
  destination?: string | undefined;
}

export interface Classification {
  name: Exclude<MailErrorName, 'CircuitOpenError'>;
  retryable: boolean;
  hint: string;
  /** Which row of the table matched, for docs and debugging. */
  rule: string;
}

interface Rule {
  rule: string;
  name: Classification['name'];
  when: (f: FailureFacts) => boolean;
  /** `'reply'`: 4xx retryable, 5xx not (with the wording exceptions below). */
  retryable: boolean | 'reply';
  hint: string | ((f: FailureFacts) => string);
}

const text = (f: FailureFacts): string => `${f.message ?? ''} ${f.response ?? ''} ${f.originalCode ?? ''}`;
const has = (f: FailureFacts, pattern: RegExp): boolean => pattern.test(text(f));
const reply = (f: FailureFacts): boolean => typeof f.responseCode === 'number' && f.responseCode >= 200;
const command = (f: FailureFacts): string => (f.command ?? '').toUpperCase();
const CONNECTION_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const isConnectionFailure = (f: FailureFacts): boolean => !reply(f) && CONNECTION_CODES.has(f.code ?? '');

/** The RFC 3463 enhanced status code at the start of a reply, e.g. `'5.7.1'`. */
export function enhancedStatusOf(response: string | undefined): string | undefined {
  const match = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(response ?? '');
  return match?.[1];
}

/** A 4xx that will not clear by retrying today (a daily quota). */
const QUOTA_EXHAUSTED = /daily (user )?(sending )?(quota|limit)|sending (quota|limit) (exceeded|reached)|quota exceeded for (the|to)day/i;
/** A 5xx whose wording says it is temporary. Blocklist replies also say "unavailable", and are not. */
const SAYS_TRY_LATER = /try again later|please try again|temporar(il)?y (unavailable|deferred|rejected|failure|failed)/i;
const BLOCKLISTED = /block ?list|black ?list|spamhaus|blocked using|listed (at|in|on)/i;

/** 4xx temporary, 5xx permanent; nodemailer 10's `permanent` first; then the reply's own words. */
export function isTemporaryReply(f: FailureFacts): boolean {
  const temporary = f.permanent !== undefined ? !f.permanent : (f.responseCode ?? 0) >= 400 && (f.responseCode ?? 0) < 500;
  if (temporary && has(f, QUOTA_EXHAUSTED)) return false;
  if (!temporary && (f.responseCode ?? 0) >= 500 && has(f, SAYS_TRY_LATER) && !has(f, BLOCKLISTED)) return true;
  return temporary;
}

const portHint = (f: FailureFacts): string => (f.port ? `port ${f.port}` : 'this port');

/**
 * The classification table, first match wins. Pure: facts in, class +
 * retryable + hint out. docs/errors.md describes the same rows.
 */
export const CLASSIFICATION_TABLE: readonly Rule[] = [
  { rule: 'config', name: 'ConfigError', when: (f) => f.code === 'ECONFIG', retryable: false, hint: 'Fix the option named in the message.' },
  {
    rule: 'no reply after the final dot',
    name: 'DeliveryUnknownError',
    when: (f) => f.bodySent === true && isConnectionFailure(f),
    retryable: false,
    hint: 'The message may have been accepted: check the recipient or the server log before sending it again (resendOnUnknownDelivery: true resends, at the risk of a duplicate).',
  },
  {
    rule: 'TLS on a plaintext port',
    name: 'TlsError',
    when: (f) => has(f, /wrong version number|WRONG_VERSION_NUMBER|packet length too long|unknown protocol|tls_validate_record_header|http request/i),
    retryable: false,
    hint: (f) => `${portHint(f)} starts in plaintext: set secure: false (STARTTLS is used when the server offers it; requireTLS: true insists on it).`,
  },
  {
    // A server that takes the connection and never greets in plaintext is,
    // nearly always, waiting for a TLS ClientHello (smtp-rig's SMTPS465 row).
    // Not retried: every attempt would wait out greetingTimeout again.
    rule: 'plaintext on an implicit-TLS port',
    name: 'TlsError',
    when: (f) => f.timeoutType === 'GREETING_TIMEOUT' && f.secure !== true,
    retryable: false,
    hint: (f) =>
      f.port === 465
        ? 'Port 465 expects TLS from the first byte: set secure: true.'
        : `The server never greeted in plaintext: ${portHint(f)} probably expects TLS from the first byte; set secure: true.`,
  },
  {
    rule: 'certificate expired',
    name: 'TlsError',
    when: (f) => has(f, /certificate has expired|CERT_HAS_EXPIRED|certificate is not yet valid|CERT_NOT_YET_VALID/i),
    retryable: false,
    hint: "The server's certificate is expired or not yet valid: ask its operator to renew it (tls.rejectUnauthorized: false would send unverified).",
  },
  {
    rule: 'certificate for another host',
    name: 'TlsError',
    when: (f) => has(f, /Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME_INVALID|altnames/i),
    retryable: false,
    hint: "The certificate is for another host name: connect to the name on the certificate, or set tls.servername to it.",
  },
  {
    rule: 'certificate not trusted',
    name: 'TlsError',
    when: (f) => has(f, /self[- ]signed certificate|SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify the first certificate|unable to get (local )?issuer certificate|certificate chain/i),
    retryable: false,
    hint: "The server's certificate is not trusted: add its CA with tls.ca (tls.rejectUnauthorized: false turns verification off, which exposes the password).",
  },
  {
    rule: 'STARTTLS required',
    name: 'TlsError',
    when: (f) => (f.responseCode === 530 && has(f, /STARTTLS/i)) || f.responseCode === 538 || has(f, /must issue a STARTTLS/i),
    retryable: false,
    hint: 'The server accepts mail only over TLS: remove ignoreTLS (and use port 587 with STARTTLS or 465 with secure: true).',
  },
  {
    rule: 'STARTTLS failed',
    name: 'TlsError',
    when: (f) => command(f) === 'STARTTLS' || (f.code === 'ETLS' && !reply(f)),
    retryable: 'reply',
    hint: (f) => (reply(f) && isTemporaryReply(f) ? 'The server could not start TLS for now; the send is retried.' : 'The TLS handshake failed: check tls options (minVersion, ciphers, ca) against what the server supports.'),
  },
  {
    rule: '421 closing',
    name: 'ConnectionError',
    when: (f) => f.responseCode === 421,
    retryable: 'reply',
    hint: 'The server is closing the connection (overloaded, throttling or restarting); the send is retried later.',
  },
  {
    rule: 'missing credentials',
    name: 'AuthError',
    when: (f) => has(f, /Missing credentials/i),
    retryable: false,
    hint: 'The server asks for a login and the credentials are missing: set auth.user and auth.pass (SMTP_USER/SMTP_PASS), or use a relay that accepts your host without AUTH.',
  },
  {
    rule: 'AUTH not offered',
    name: 'AuthError',
    when: (f) => command(f).startsWith('AUTH') && (f.responseCode === 502 || f.responseCode === 503 || f.responseCode === 504) && has(f, /not (enabled|available|supported|implemented)|unrecognized|command not/i),
    retryable: false,
    hint: 'This server offers no AUTH: leave auth out (empty SMTP_USER and SMTP_PASS are dropped for you).',
  },
  {
    rule: 'app password required',
    name: 'AuthError',
    when: (f) => has(f, /application-specific password|app password|InvalidSecondFactor|\b5\.7\.9\b/i),
    retryable: false,
    hint: 'The account has two-factor sign-in: create an app password with the provider and use it as auth.pass.',
  },
  {
    rule: 'login refused',
    name: 'AuthError',
    when: (f) => f.code === 'EAUTH' || command(f).startsWith('AUTH'),
    retryable: 'reply',
    hint: (f) =>
      reply(f) && isTemporaryReply(f)
        ? 'The server could not check the login for now; the send is retried.'
        : 'The server refused the login: check auth.user and auth.pass (many providers want the full address as user, and an API key or app password as pass).',
  },
  {
    rule: 'HELO name refused',
    name: 'HeloRejectedError',
    when: (f) =>
      (['EHLO', 'HELO', 'LHLO'].includes(command(f)) && reply(f)) ||
      has(f, /helo command rejected|need fully-qualified hostname|invalid (helo|ehlo)|(helo|ehlo) (name|hostname)? ?(rejected|invalid)|bad helo|helo.*not (valid|allowed)/i),
    retryable: 'reply',
    hint: 'The server refused the EHLO name: set name to a fully qualified host name of your sending domain (e.g. name: "mail.example.com"), or leave name out so it is taken from the sender\'s domain.',
  },
  {
    rule: 'AUTH required',
    name: 'AuthError',
    when: (f) =>
      reply(f) &&
      ((f.responseCode === 530 && has(f, /auth/i)) ||
        has(f, /authentication (is )?required|must (be )?authenticate|relay(ing)? (access )?denied|not permitted to relay|relay not permitted|\baccess denied/i)),
    retryable: 'reply',
    hint: 'The server only takes mail from clients that log in: set auth.user and auth.pass for this server.',
  },
  {
    rule: 'sender refused',
    name: 'SenderRejectedError',
    when: (f) => command(f) === 'MAIL FROM' && reply(f),
    retryable: 'reply',
    hint: (f) =>
      isTemporaryReply(f)
        ? 'The server deferred the sender for now (greylisting or a temporary check); the send is retried.'
        : 'The server does not accept this sender: verify the sending domain with your provider (SPF/DKIM), or send from an address on a verified domain.',
  },
  {
    rule: 'recipients refused',
    name: 'RecipientsRejectedError',
    when: (f) => command(f) === 'RCPT TO',
    retryable: 'reply',
    hint: (f) => {
      if (has(f, /\b5\.1\.[0-9]\b|user unknown|no such user|does not exist|unknown (user|recipient)|mailbox unavailable/i)) return 'The recipient address does not exist: check it for typos.';
      if (has(f, /mailbox full|quota|insufficient storage|\b4\.2\.2\b|\b5\.2\.2\b/i)) return "The recipient's mailbox is full: the send is retried, or try again later.";
      return isTemporaryReply(f)
        ? 'The server deferred the recipients (greylisting, rate limits): the send is retried.'
        : 'The server refused every recipient: check the addresses, and that this server may deliver to them.';
    },
  },
  {
    rule: 'size limit',
    name: 'MessageRejectedError',
    when: (f) => f.responseCode === 552 || (f.responseCode === 452 && command(f) === 'DATA') || has(f, /Message size larger than allowed/i),
    retryable: 'reply',
    hint: 'The message is larger than the server accepts: send smaller attachments, or links to them.',
  },
  {
    rule: 'message refused',
    name: 'MessageRejectedError',
    when: (f) => command(f) === 'DATA' || f.code === 'EMESSAGE',
    retryable: 'reply',
    hint: (f) =>
      reply(f) && isTemporaryReply(f)
        ? 'The server deferred the message; it did not take it, so the send is retried.'
        : 'The server refused the message content (policy, spam or virus check): see the reply text.',
  },
  {
    rule: 'host does not resolve',
    name: 'ConnectionError',
    when: (f) => has(f, /ENOTFOUND|getaddrinfo ENOTFOUND|queryA ENOTFOUND|NXDOMAIN/i) || f.originalCode === 'ENOTFOUND',
    retryable: false,
    hint: 'The host name does not resolve: check host (SMTP_HOST) for typos.',
  },
  {
    rule: 'connection refused',
    name: 'ConnectionError',
    when: (f) => has(f, /ECONNREFUSED/) || f.originalCode === 'ECONNREFUSED',
    retryable: true,
    hint: (f) => `Nothing accepted the connection at ${f.destination ?? 'the host and port'}: check host and port, and that outgoing connections to it are allowed.`,
  },
  {
    rule: 'timeout',
    name: 'ConnectionError',
    when: (f) => f.code === 'ETIMEDOUT' || f.timeoutType !== undefined,
    retryable: true,
    hint: (f) => {
      switch (f.timeoutType) {
        case 'GREETING_TIMEOUT':
          return 'The server took the connection but never greeted; the send is retried (greetingTimeout sets how long to wait).';
        case 'CONNECT_TIMEOUT': // nodemailer 10's name; factsOf maps 6.x's message to it
          return `No answer to the connection attempt at ${f.destination ?? 'the host and port'}: a firewall may drop outgoing SMTP (many clouds block port 25; try 587).`;
        case 'UPGRADE_TIMEOUT':
          return 'The TLS handshake timed out; the send is retried (check that the port speaks the TLS mode you set).';
        case 'DNS_TIMEOUT':
          return 'The DNS lookup timed out; the send is retried.';
        default:
          return 'The server stopped answering mid-session; the send is retried (socketTimeout sets how long to wait).';
      }
    },
  },
  {
    rule: 'connection failed',
    name: 'ConnectionError',
    when: (f) => isConnectionFailure(f) || (!reply(f) && /^E[A-Z]+$/.test(f.originalCode ?? '')),
    retryable: (true),
    hint: 'The connection failed or was dropped before the message was handed over; the send is retried.',
  },
  {
    rule: 'refused at the greeting',
    name: 'ConnectionError',
    when: (f) => reply(f) && command(f) === 'CONN',
    retryable: 'reply',
    hint: (f) => (isTemporaryReply(f) ? 'The server refused the session for now; the send is retried.' : 'The server refuses SMTP sessions from this client: check host and port, and whether your IP is allowed.'),
  },
  {
    rule: 'other reply',
    name: 'MessageRejectedError',
    when: reply,
    retryable: 'reply',
    hint: (f) => (isTemporaryReply(f) ? 'The server deferred the request; the send is retried.' : 'The server refused the request: see the reply text.'),
  },
  {
    rule: 'unknown',
    name: 'MailError',
    when: () => true,
    retryable: false,
    hint: 'The transport failed in a way this library does not recognise: see err.cause.',
  },
];

const TIMEOUT_MESSAGES: Record<string, string> = {
  'Greeting never received': 'GREETING_TIMEOUT',
  'Connection timeout': 'CONNECT_TIMEOUT',
  Timeout: 'SOCKET_TIMEOUT',
  'DNS lookup timed out': 'DNS_TIMEOUT',
};

/** Reads the facts off an error as nodemailer 6.9 to 10.x raise it. */
export function factsOf(err: unknown): FailureFacts {
  const e = (err ?? {}) as Record<string, unknown>;
  const message = typeof e['message'] === 'string' ? e['message'] : String(err);
  let code = typeof e['code'] === 'string' ? e['code'] : undefined;
  // nodemailer 6.x-9.x report a closed socket a second later, without a code.
  if (!code && /^(Unexpected socket close|Reached maximum number of retries after connection was closed)/.test(message)) code = 'ECONNECTION';
  let timeoutType = typeof e['timeoutType'] === 'string' ? e['timeoutType'] : undefined;
  if (!timeoutType && code === 'ETIMEDOUT') timeoutType = TIMEOUT_MESSAGES[message.split(':')[0]!.trim()];
  const rejectedErrors = Array.isArray(e['rejectedErrors']) ? (e['rejectedErrors'] as Array<Record<string, unknown>>) : [];
  return {
    code,
    responseCode: typeof e['responseCode'] === 'number' ? e['responseCode'] : undefined,
    response: typeof e['response'] === 'string' ? e['response'] : undefined,
    command: typeof e['command'] === 'string' ? e['command'] : undefined,
    message,
    timeoutType,
    originalCode:
      typeof e['originalCode'] === 'string' ? e['originalCode'] : typeof e['reason'] === 'string' ? e['reason'] : typeof e['errno'] === 'string' ? e['errno'] : undefined,
    permanent: typeof e['permanent'] === 'boolean' ? e['permanent'] : undefined,
    rejectedCodes: rejectedErrors.map((r) => r['responseCode']).filter((c): c is number => typeof c === 'number'),
  };
}

/** Finds the row for a failure. Pure. */
export function classifyError(facts: FailureFacts): Classification {
  const rule = CLASSIFICATION_TABLE.find((r) => r.when(facts))!;
  let retryable: boolean;
  if (rule.retryable === 'reply') {
    if (reply(facts)) {
      // All recipients refused with a mix of 4xx and 5xx: a retry can reach the deferred ones.
      retryable = isTemporaryReply(facts) || (facts.rejectedCodes ?? []).some((c) => c >= 400 && c < 500 && !has(facts, QUOTA_EXHAUSTED));
    } else {
      retryable = false;
    }
  } else {
    retryable = rule.retryable;
  }
  const hint = typeof rule.hint === 'function' ? rule.hint(facts) : rule.hint;
  return { name: rule.name, retryable, hint, rule: rule.rule };
}
