/**
 * The library against a real Postfix: every failure the private MTA can
 * produce (see postfix-listeners.test.ts for what plain nodemailer gets) must
 * come back as the right typed error, with nodemailer's own fields kept, a
 * correct `retryable`, a hint, the right number of attempts (checked against
 * the server's log too), and never the SASL password.
 *
 * Ports here are random, so the "port decides TLS" rule never applies:
 * every transport passes `secure` explicitly.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import {
  AuthError,
  ConnectionError,
  HeloRejectedError,
  MailError,
  RecipientsRejectedError,
  SenderRejectedError,
  TlsError,
  resilient,
  type ResilientOptions,
} from '../../src/index.js';
import {
  caPem,
  countDelivered,
  deliveredHeader,
  loadMta,
  uniqueAddress,
  waitForMaillog,
  type Listener,
} from './helpers.js';

const mta = loadMta();
const withCa = { tls: { ca: [caPem()] } };
const auth = { user: mta.user, pass: mta.pass };
const WRONG_PASS = `wrong-${Math.random().toString(36).slice(2, 12)}`;
/** Nothing derived from a password may show up in an error. */
const SECRETS = [
  mta.pass,
  WRONG_PASS,
  Buffer.from(mta.pass).toString('base64'),
  Buffer.from(`\0${mta.user}\0${mta.pass}`).toString('base64'),
  Buffer.from(`\0${mta.user}\0${WRONG_PASS}`).toString('base64'),
  Buffer.from(WRONG_PASS).toString('base64'),
];
/** Retry fast, so a wrongly retried error shows up as attempts 2 without slowing the suite. */
const RETRY = { retries: 1, minTimeout: 10 };

type Smtp = SMTPTransport.Options & Record<string, unknown>;

interface Run {
  sender: string;
  rcpt: string;
  helo: string;
}

function newRun(tag: string, senderDomain = 'mta.test'): Run {
  const id = uniqueAddress(tag).split('@')[0]!;
  return { sender: `s-${id}@${senderDomain}`, rcpt: `r-${id}@mta.test`, helo: `h-${id}.client.mta.test` };
}

function smtpBase(listener: Listener): Smtp {
  return { host: mta.host, port: mta.ports[listener], secure: false, greetingTimeout: 2000, connectionTimeout: 5000 };
}

function plainTransport(listener: Listener, smtp: Smtp) {
  return nodemailer.createTransport({ ...smtpBase(listener), ...smtp } as SMTPTransport.Options);
}

function libTransport(listener: Listener, smtp: Smtp, extra: Record<string, unknown> = {}) {
  return nodemailer.createTransport(resilient({ ...smtpBase(listener), retry: RETRY, breaker: false, ...smtp, ...extra } as ResilientOptions));
}

/** nodemailer's fields, as both plain nodemailer and the library's errors carry them. */
interface ErrFields extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  retryable?: boolean;
  hint?: string;
  attempts?: number;
  destination?: string;
  enhancedStatus?: string;
  rejected?: string[];
  rejectedErrors?: Error[];
}

async function failure(p: Promise<unknown>): Promise<ErrFields> {
  let info: unknown;
  try {
    info = await p;
  } catch (err) {
    return err as ErrFields;
  }
  throw new Error(`expected a failure, got success: ${JSON.stringify(info)}`);
}

function expectNoSecrets(err: unknown): void {
  const renderings = {
    'String(err)': String(err),
    'JSON.stringify(err)': JSON.stringify(err) ?? '',
    'util.inspect(err)': inspect(err, { depth: 10 }),
  };
  for (const [how, text] of Object.entries(renderings)) {
    for (const secret of SECRETS) {
      expect(text.includes(secret), `${how} contains a secret (${secret.slice(0, 4)}…): ${text}`).toBe(false);
    }
  }
}

type ErrorClass = abstract new (...args: never[]) => Error;

interface Scenario {
  title: string;
  listener: Listener;
  /** SMTP options given to BOTH plain nodemailer and the library. */
  smtp: Smtp;
  /** Library-only options. */
  lib?: Record<string, unknown>;
  senderDomain?: string;
  mail?: (r: Run) => Record<string, unknown>;
  /** Compare code/responseCode/command/response with plain nodemailer (default true). */
  comparePlain?: boolean;
  expect: {
    classes: Array<[ErrorClass, string]>;
    retryable: boolean | 'by-class';
    code: string;
    command: string;
    responseCode?: number;
    response?: RegExp;
    enhancedStatus?: string;
    hint: RegExp;
    rejected?: (r: Run) => string[];
  };
  /** Needles identifying this run's reject lines in the Postfix log (one per attempt). */
  serverLog?: (r: Run) => string[];
}

const SCENARIOS: Scenario[] = [
  {
    title: 'secure:true against a STARTTLS listener (SUBMISSION587) -> TlsError, not retried',
    listener: 'SUBMISSION587',
    smtp: { secure: true, auth, ...withCa },
    expect: {
      classes: [[TlsError, 'TlsError']],
      retryable: false,
      code: 'ESOCKET',
      command: 'CONN',
      hint: /secure/,
    },
  },
  {
    title: 'secure:true against plain SMTP (PLAIN25) -> TlsError, not retried',
    listener: 'PLAIN25',
    smtp: { secure: true, ...withCa },
    expect: { classes: [[TlsError, 'TlsError']], retryable: false, code: 'ESOCKET', command: 'CONN', hint: /secure/ },
  },
  {
    title: 'secure:false against implicit TLS (SMTPS465), greetingTimeout 1000 -> typed error naming secure: true',
    listener: 'SMTPS465',
    smtp: { secure: false, auth, ...withCa, greetingTimeout: 1000 },
    expect: {
      // On a random port the library cannot know it is an implicit-TLS port: TlsError or ConnectionError.
      classes: [
        [TlsError, 'TlsError'],
        [ConnectionError, 'ConnectionError'],
      ],
      retryable: 'by-class',
      code: 'ETIMEDOUT',
      command: 'CONN',
      hint: /secure: ?true/,
    },
  },
  {
    title: 'untrusted self-signed certificate -> TlsError, not retried',
    listener: 'SUBMISSION587',
    smtp: { secure: false, auth },
    expect: { classes: [[TlsError, 'TlsError']], retryable: false, code: 'ESOCKET', command: 'CONN', hint: /tls\.ca|\bca\b/ },
  },
  {
    title: 'ignoreTLS against STARTTLS-required -> TlsError (530 5.7.0 Must issue a STARTTLS command first)',
    listener: 'SUBMISSION587',
    smtp: { secure: false, ignoreTLS: true, auth, ...withCa },
    expect: {
      classes: [[TlsError, 'TlsError']],
      retryable: false,
      code: 'EENVELOPE',
      command: 'MAIL FROM',
      responseCode: 530,
      response: /^530 5\.7\.0 Must issue a STARTTLS command first/,
      enhancedStatus: '5.7.0',
      hint: /ignoreTLS|STARTTLS|TLS/,
    },
  },
  {
    title: 'no auth where AUTH is required (554 5.7.1 Access denied at RCPT) -> AuthError',
    listener: 'SUBMISSION587',
    smtp: { secure: false, ...withCa },
    expect: {
      classes: [[AuthError, 'AuthError']],
      retryable: false,
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 554,
      response: /^554 5\.7\.1 <r-[^>]+>: Recipient address rejected: Access denied$/,
      enhancedStatus: '5.7.1',
      hint: /auth/i,
    },
    serverLog: (r) => ['reject: RCPT', `from=<${r.sender}>`],
  },
  {
    title: 'no auth over implicit TLS (SMTPS465, 554 at RCPT) -> AuthError',
    listener: 'SMTPS465',
    smtp: { secure: true, ...withCa },
    expect: {
      classes: [[AuthError, 'AuthError']],
      retryable: false,
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 554,
      response: /Recipient address rejected: Access denied$/,
      enhancedStatus: '5.7.1',
      hint: /auth/i,
    },
    serverLog: (r) => ['reject: RCPT', `from=<${r.sender}>`],
  },
  {
    title: 'wrong password (535 5.7.8) -> AuthError, not retried',
    listener: 'SUBMISSION587',
    smtp: { secure: false, auth: { user: mta.user, pass: WRONG_PASS }, ...withCa },
    expect: {
      classes: [[AuthError, 'AuthError']],
      retryable: false,
      code: 'EAUTH',
      command: 'AUTH PLAIN',
      responseCode: 535,
      response: /^535 5\.7\.8 Error: authentication failed: authentication failure$/,
      enhancedStatus: '5.7.8',
      hint: /pass|login|credential/i,
    },
  },
  {
    title: "name 'localhost' against HELOSTRICT -> HeloRejectedError at RCPT TO",
    listener: 'HELOSTRICT',
    smtp: { name: 'localhost' },
    expect: {
      classes: [[HeloRejectedError, 'HeloRejectedError']],
      retryable: false,
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 550,
      response: /^550 5\.7\.1 <localhost>: Helo command rejected: Don't use hostname localhost$/,
      enhancedStatus: '5.7.1',
      hint: /name/,
      rejected: (r) => [r.rcpt],
    },
    serverLog: (r) => ['reject: RCPT', `from=<${r.sender}>`, 'helo=<localhost>'],
  },
  {
    title: "name 'localhost' against HELOSTRICT_EARLY -> HeloRejectedError at EHLO/HELO",
    listener: 'HELOSTRICT_EARLY',
    smtp: { name: 'localhost' },
    expect: {
      classes: [[HeloRejectedError, 'HeloRejectedError']],
      retryable: false,
      code: 'EPROTOCOL',
      command: 'HELO',
      responseCode: 550,
      response: /^550 5\.7\.1 <localhost>: Helo command rejected: Don't use hostname localhost$/,
      enhancedStatus: '5.7.1',
      hint: /name/,
    },
  },
  {
    title: 'a dotless name against HELOSTRICT -> HeloRejectedError (504 5.5.2)',
    listener: 'HELOSTRICT',
    smtp: { name: 'nodot' },
    expect: {
      classes: [[HeloRejectedError, 'HeloRejectedError']],
      retryable: false,
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 504,
      response: /^504 5\.5\.2 <nodot>: Helo command rejected: need fully-qualified hostname$/,
      enhancedStatus: '5.5.2',
      hint: /name/,
    },
  },
  {
    title: 'unverified sender -> SenderRejectedError with a hint, not retried',
    listener: 'SENDERCHECK',
    smtp: {},
    senderDomain: 'unverified.example',
    expect: {
      classes: [[SenderRejectedError, 'SenderRejectedError']],
      retryable: false,
      code: 'EENVELOPE',
      command: 'MAIL FROM',
      responseCode: 550,
      response: /^550 5\.7\.1 <s-[^>]+@unverified\.example>: Sender address rejected: This domain is not associated with your account$/,
      enhancedStatus: '5.7.1',
      hint: /domain|sender/i,
    },
    serverLog: (r) => ['reject: MAIL', `from=<${r.sender}>`],
  },
  {
    title: '451 4.7.1 at MAIL FROM -> SenderRejectedError, retryable (2 attempts)',
    listener: 'TEMPFAIL',
    smtp: {},
    mail: (r) => ({ from: 'tempfail@mta.test', to: r.rcpt }),
    expect: {
      classes: [[SenderRejectedError, 'SenderRejectedError']],
      retryable: true,
      code: 'EENVELOPE',
      command: 'MAIL FROM',
      responseCode: 451,
      response: /^451 4\.7\.1 <tempfail@mta\.test>: Sender address rejected: Try again later$/,
      enhancedStatus: '4.7.1',
      hint: /\S/,
    },
    serverLog: (r) => ['reject: MAIL', `helo=<${r.helo}>`],
  },
  {
    title: '451 4.7.1 at RCPT TO -> RecipientsRejectedError, retryable (2 attempts)',
    listener: 'TEMPFAIL',
    smtp: {},
    mail: (r) => ({ from: r.sender, to: 'tempfail@mta.test' }),
    expect: {
      classes: [[RecipientsRejectedError, 'RecipientsRejectedError']],
      retryable: true,
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 451,
      response: /^451 4\.7\.1 <tempfail@mta\.test>: Recipient address rejected: Try again later$/,
      enhancedStatus: '4.7.1',
      hint: /\S/,
      rejected: () => ['tempfail@mta.test'],
    },
    serverLog: (r) => ['reject: RCPT', `from=<${r.sender}>`],
  },
  {
    title: '452 4.2.2 mailbox full at RCPT TO -> RecipientsRejectedError, retryable (2 attempts)',
    listener: 'TEMPFAIL',
    smtp: {},
    mail: (r) => ({ from: r.sender, to: 'full@mta.test' }),
    expect: {
      classes: [[RecipientsRejectedError, 'RecipientsRejectedError']],
      retryable: true,
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 452,
      response: /^452 4\.2\.2 <full@mta\.test>: Recipient address rejected: Mailbox full$/,
      enhancedStatus: '4.2.2',
      hint: /\S/,
      rejected: () => ['full@mta.test'],
    },
    serverLog: (r) => ['reject: RCPT', `from=<${r.sender}>`],
  },
  {
    title: '550 5.1.1 user unknown at RCPT TO -> RecipientsRejectedError, not retried',
    listener: 'TEMPFAIL',
    smtp: {},
    mail: (r) => ({ from: r.sender, to: 'nouser@mta.test' }),
    expect: {
      classes: [[RecipientsRejectedError, 'RecipientsRejectedError']],
      retryable: false,
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 550,
      response: /^550 5\.1\.1 <nouser@mta\.test>: Recipient address rejected: User unknown$/,
      enhancedStatus: '5.1.1',
      hint: /\S/,
      rejected: () => ['nouser@mta.test'],
    },
    serverLog: (r) => ['reject: RCPT', `from=<${r.sender}>`],
  },
];

describe('typed errors from a real Postfix', () => {
  it.each(SCENARIOS.map((s) => [s.title, s] as const))('%s', async (_title, s) => {
    const buildMail = (r: Run): Record<string, unknown> => ({
      from: r.sender,
      to: r.rcpt,
      subject: `errors-against-postfix: ${s.title}`,
      text: 'hello',
      ...(s.mail ? s.mail(r) : {}),
    });
    // The unique EHLO name marks a run in the server log when the scenario does not set `name` itself.
    const heloFor = (r: Run): Smtp => (s.smtp.name === undefined && s.serverLog ? { name: r.helo } : {});

    // 1. plain nodemailer, same settings: the reference for code/responseCode/command/response.
    const plainRun = newRun('plain', s.senderDomain);
    const plainErr = await failure(plainTransport(s.listener, { ...s.smtp, ...heloFor(plainRun) }).sendMail(buildMail(plainRun)));

    // 2. the library.
    const run = newRun('lib', s.senderDomain);
    const err = await failure(libTransport(s.listener, { ...s.smtp, ...heloFor(run) }, s.lib).sendMail(buildMail(run)));

    // class and name
    expect(err).toBeInstanceOf(MailError);
    const matched = s.expect.classes.filter(([cls]) => err instanceof cls);
    expect(matched.length, `got ${err.name}: ${String(err)}`).toBe(1);
    expect(err.name).toBe(matched[0]![1]);

    // nodemailer's own fields, kept as it set them
    expect(err.code).toBe(s.expect.code);
    expect(err.command).toBe(s.expect.command);
    expect(err.responseCode).toBe(s.expect.responseCode);
    if (s.comparePlain !== false) {
      expect(err.code).toBe(plainErr.code);
      expect(err.command).toBe(plainErr.command);
      expect(err.responseCode).toBe(plainErr.responseCode);
      if (plainErr.response !== undefined) {
        // the reply text differs only in this run's own addresses
        expect(err.response?.replaceAll(run.rcpt, '<R>').replaceAll(run.sender, '<S>')).toBe(
          plainErr.response.replaceAll(plainRun.rcpt, '<R>').replaceAll(plainRun.sender, '<S>'),
        );
      }
    }
    if (s.expect.response) {
      expect(err.response).toMatch(s.expect.response);
      // String(err) carries the server's reply
      expect(String(err)).toContain(err.response!);
    }
    if (s.expect.enhancedStatus) expect(err.enhancedStatus).toBe(s.expect.enhancedStatus);

    // retryable, attempts, hint, destination
    const retryable = s.expect.retryable === 'by-class' ? err.name !== 'TlsError' : s.expect.retryable;
    expect(err.retryable, `hint: ${err.hint}`).toBe(retryable);
    expect(err.attempts).toBe(retryable ? RETRY.retries + 1 : 1);
    expect(typeof err.hint).toBe('string');
    expect(err.hint!.trim().length).toBeGreaterThan(10);
    expect(err.hint).toMatch(s.expect.hint);
    expect(err.destination).toBe(`${mta.host}:${mta.ports[s.listener]}`);
    if (s.expect.rejected) expect(err.rejected).toEqual(s.expect.rejected(run));

    // the password never leaks
    expectNoSecrets(err);

    // the server saw exactly err.attempts attempts, and nothing was delivered
    if (s.serverLog) {
      const lines = await waitForMaillog(s.serverLog(run), err.attempts ?? 1);
      expect(lines, lines.join('\n')).toHaveLength(err.attempts ?? 1);
    }
    expect(await countDelivered(run.rcpt)).toBe(0);
  });
});

describe('normalisation that makes a failing config deliver', () => {
  it('empty credentials {user:"",pass:""} against the NOAUTH relay are dropped -> delivered once', async () => {
    const r = newRun('emptyauth');
    const t = libTransport('NOAUTH587', { secure: false, auth: { user: '', pass: '' }, ...withCa });
    const info = await t.sendMail({ from: r.sender, to: r.rcpt, subject: 'empty auth', text: 'hi' });
    expect(info.accepted).toEqual([r.rcpt]);
    expect(await countDelivered(r.rcpt)).toBe(1);
  });

  it('empty credentials + forceAuth against the NOAUTH relay: plain nodemailer fails, the library delivers', async () => {
    const smtp: Smtp = { secure: false, auth: { user: '', pass: '' }, forceAuth: true, ...withCa };
    const p = newRun('forceauth-plain');
    const plainErr = await failure(plainTransport('NOAUTH587', smtp).sendMail({ from: p.sender, to: p.rcpt, text: 'hi' }));
    expect(plainErr.code).toBe('EAUTH');
    const r = newRun('forceauth-lib');
    await libTransport('NOAUTH587', smtp).sendMail({ from: r.sender, to: r.rcpt, text: 'hi' });
    expect(await countDelivered(r.rcpt)).toBe(1);
  });

  it('empty credentials against an AUTH-required server -> AuthError (not a crash), no secret', async () => {
    const r = newRun('emptyauth-sub');
    const err = await failure(
      libTransport('SUBMISSION587', { secure: false, auth: { user: '', pass: '' }, ...withCa }).sendMail({
        from: r.sender,
        to: r.rcpt,
        text: 'hi',
      }),
    );
    expect(err).toBeInstanceOf(AuthError);
    expect(err.retryable).toBe(false);
    expect(err.attempts).toBe(1);
    expect(err.hint).toMatch(/auth/i);
    expectNoSecrets(err);
    expect(await countDelivered(r.rcpt)).toBe(0);
  });

  it('no name: the EHLO name is derived from the sender domain, HELOSTRICT accepts it -> delivered once', async () => {
    const r = newRun('derived-helo', 'verified.mta.test');
    const t = libTransport('HELOSTRICT', {});
    const info = await t.sendMail({ from: r.sender, to: r.rcpt, subject: 'derived helo', text: 'hi' });
    expect(info.accepted).toEqual([r.rcpt]);
    expect(await countDelivered(r.rcpt)).toBe(1);
    // What the server recorded as the EHLO name (Postfix's Received: header: "from NAME (...)").
    const header = await deliveredHeader(r.rcpt);
    const helo = /^Received: from (\S+) \(/m.exec(header)?.[1];
    expect(helo, header).toBeDefined();
    expect(helo).toMatch(/\.mta\.test$|^mta\.test$/);
    expect(helo).not.toBe('[127.0.0.1]');
    expect(helo).not.toMatch(/^localhost/);
  });

  it('the control transports deliver exactly once through the library (STARTTLS + AUTH, implicit TLS + AUTH)', async () => {
    const a = newRun('lib-sub');
    await libTransport('SUBMISSION587', { secure: false, auth, ...withCa }).sendMail({ from: a.sender, to: a.rcpt, text: 'hi' });
    const b = newRun('lib-smtps');
    await libTransport('SMTPS465', { secure: true, auth, ...withCa }).sendMail({ from: b.sender, to: b.rcpt, text: 'hi' });
    expect(await countDelivered(a.rcpt)).toBe(1);
    expect(await countDelivered(b.rcpt)).toBe(1);
  });
});

describe('partial recipient rejection', () => {
  it('ok + full@ -> resolves with info.rejected, the good one delivered exactly once, nothing retried', async () => {
    const r = newRun('mixed');
    const t = libTransport('TEMPFAIL', {});
    const info = await t.sendMail({ from: r.sender, to: [r.rcpt, 'full@mta.test'], subject: 'mixed', text: 'hi' });
    expect(info.accepted).toEqual([r.rcpt]);
    expect(info.rejected).toEqual(['full@mta.test']);
    const rejectedErrors = (info as unknown as { rejectedErrors?: ErrFields[] }).rejectedErrors;
    expect(rejectedErrors?.map((e) => e.responseCode)).toEqual([452]);
    expect(await countDelivered(r.rcpt)).toBe(1);
    // full@ was refused once: the message was not sent again for it
    const lines = await waitForMaillog(['reject: RCPT', `from=<${r.sender}>`], 1);
    expect(lines).toHaveLength(1);
  });
});
