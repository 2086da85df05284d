/**
 * Harness self-test: proves, with PLAIN nodemailer (no library code), that
 * each listener of the private Postfix fails exactly the way the real-world
 * server it imitates does, and that delivered mail is counted exactly once.
 * If this file fails, fix test/mta/postfix/ before trusting any other MTA test.
 */
import { describe, expect, it } from 'vitest';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { caPem, countDelivered, ehloKeywords, listDelivered, loadMta, uniqueAddress, type Listener } from './helpers.js';

/** The fields nodemailer puts on its errors (only those a test looks at). */
interface SmtpError extends Error {
  code?: string;
  command?: string;
  responseCode?: number;
  response?: string;
  permanent?: boolean;
  reason?: string;
  originalCode?: string;
  timeoutType?: string;
  rejected?: string[];
  rejectedErrors?: Array<Error & { recipient?: string; responseCode?: number; permanent?: boolean }>;
}

const mta = loadMta();
const FROM = 'sender@mta.test';
const VERIFIED_FROM = 'sender@verified.mta.test';

function transport(listener: Listener, extra: SMTPTransport.Options = {}) {
  return nodemailer.createTransport({
    host: mta.host,
    port: mta.ports[listener],
    secure: false,
    greetingTimeout: 2000,
    connectionTimeout: 5000,
    ...extra,
  } as SMTPTransport.Options);
}
const withCa = { tls: { ca: [caPem()] } };
const auth = { user: mta.user, pass: mta.pass };

function message(to: string | string[], extra: Record<string, unknown> = {}) {
  return { from: FROM, to, subject: `mta self-test ${String(to)}`, text: 'hello from the harness self-test', ...extra };
}

async function failure(p: Promise<unknown>): Promise<SmtpError> {
  try {
    const info = await p;
    throw new Error(`expected a failure, got success: ${JSON.stringify(info)}`);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('expected a failure')) throw err;
    return err as SmtpError;
  }
}

/** send and expect success; the recipient(s) must each be delivered exactly once. */
async function delivers(t: Transporter, rcpts: string[], extra: Record<string, unknown> = {}) {
  const info = await t.sendMail(message(rcpts, extra));
  expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as /);
  expect(info.accepted).toEqual(rcpts);
  for (const r of rcpts) expect(await countDelivered(r)).toBe(1);
  return info;
}

describe('PLAIN25: plain SMTP, no STARTTLS, no AUTH', () => {
  it('advertises neither STARTTLS nor AUTH', async () => {
    const kw = await ehloKeywords(mta.ports.PLAIN25);
    expect(kw).toContain('PIPELINING');
    expect(kw.some((k) => k.startsWith('STARTTLS') || k.startsWith('AUTH'))).toBe(false);
  });

  it('delivers to any domain, exactly once', async () => {
    await delivers(transport('PLAIN25'), [uniqueAddress('plain'), uniqueAddress('plain-ext', 'example.com')]);
  });

  it('empty credentials {user:"",pass:""} still deliver (AUTH is never advertised)', async () => {
    await delivers(transport('PLAIN25', { auth: { user: '', pass: '' } }), [uniqueAddress('plain-emptyauth')]);
  });

  it('secure:true -> ESOCKET/CONN "wrong version number"', async () => {
    const to = uniqueAddress('plain-secure');
    const err = await failure(transport('PLAIN25', { secure: true, ...withCa }).sendMail(message(to)));
    expect(err.code).toBe('ESOCKET');
    expect(err.command).toBe('CONN');
    expect(err.reason).toBe('wrong version number');
    expect(err.originalCode).toBe('ERR_SSL_WRONG_VERSION_NUMBER');
    expect(err.responseCode).toBeUndefined();
    expect(await countDelivered(to)).toBe(0);
  });
});

describe('SUBMISSION587: STARTTLS required, AUTH after STARTTLS, AUTH required', () => {
  it('offers STARTTLS but not AUTH in plaintext; AUTH PLAIN LOGIN after STARTTLS', async () => {
    const before = await ehloKeywords(mta.ports.SUBMISSION587);
    expect(before).toContain('STARTTLS');
    expect(before.some((k) => k.startsWith('AUTH'))).toBe(false);
    const after = await ehloKeywords(mta.ports.SUBMISSION587, { starttls: true });
    expect(after).toContain('AUTH PLAIN LOGIN');
    expect(after).not.toContain('STARTTLS');
  });

  it('control: STARTTLS + AUTH + trusted CA delivers exactly once', async () => {
    await delivers(transport('SUBMISSION587', { auth, ...withCa }), [uniqueAddress('sub-ok')]);
  });

  it('AUTH LOGIN works too', async () => {
    await delivers(transport('SUBMISSION587', { auth: { ...auth, method: 'LOGIN' }, ...withCa } as SMTPTransport.Options), [
      uniqueAddress('sub-login'),
    ]);
  });

  it('secure:true (implicit TLS against a STARTTLS port) -> ESOCKET/CONN "wrong version number"', async () => {
    const to = uniqueAddress('sub-secure');
    const err = await failure(transport('SUBMISSION587', { secure: true, auth, ...withCa }).sendMail(message(to)));
    expect(err.code).toBe('ESOCKET');
    expect(err.command).toBe('CONN');
    expect(err.reason).toBe('wrong version number');
    expect(await countDelivered(to)).toBe(0);
  });

  it('untrusted self-signed certificate -> ESOCKET/CONN "self-signed certificate"', async () => {
    const to = uniqueAddress('sub-untrusted');
    const err = await failure(transport('SUBMISSION587', { auth }).sendMail(message(to)));
    expect(err.code).toBe('ESOCKET');
    expect(err.command).toBe('CONN');
    expect(err.message).toMatch(/self-signed certificate/);
    expect(err.originalCode).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(await countDelivered(to)).toBe(0);
  });

  it('ignoreTLS -> 530 5.7.0 Must issue a STARTTLS command first, at MAIL FROM', async () => {
    const to = uniqueAddress('sub-ignoretls');
    const err = await failure(transport('SUBMISSION587', { ignoreTLS: true, auth }).sendMail(message(to)));
    expect(err.code).toBe('EENVELOPE');
    expect(err.responseCode).toBe(530);
    expect(err.command).toBe('MAIL FROM');
    expect(err.response).toMatch(/^530 5\.7\.0 Must issue a STARTTLS command first/);
    expect(await countDelivered(to)).toBe(0);
  });

  it('no auth -> 554 5.7.1 Recipient address rejected: Access denied, at RCPT TO', async () => {
    const to = uniqueAddress('sub-noauth');
    const err = await failure(transport('SUBMISSION587', withCa).sendMail(message(to)));
    expect(err.code).toBe('EENVELOPE');
    expect(err.responseCode).toBe(554);
    expect(err.command).toBe('RCPT TO');
    expect(err.response).toBe(`554 5.7.1 <${to}>: Recipient address rejected: Access denied`);
    expect(err.rejected).toEqual([to]);
    expect(await countDelivered(to)).toBe(0);
  });

  it('wrong password -> EAUTH 535 5.7.8 at AUTH PLAIN', async () => {
    const to = uniqueAddress('sub-badpass');
    const err = await failure(
      transport('SUBMISSION587', { auth: { user: mta.user, pass: 'wrong-password' }, ...withCa }).sendMail(message(to)),
    );
    expect(err.code).toBe('EAUTH');
    expect(err.responseCode).toBe(535);
    expect(err.command).toBe('AUTH PLAIN');
    expect(err.response).toBe('535 5.7.8 Error: authentication failed: authentication failure');
    expect(await countDelivered(to)).toBe(0);
  });

  it('empty credentials -> EAUTH/API "Missing credentials" (client-side, no AUTH sent)', async () => {
    const to = uniqueAddress('sub-emptyauth');
    const err = await failure(
      transport('SUBMISSION587', { auth: { user: '', pass: '' }, ...withCa }).sendMail(message(to)),
    );
    expect(err.code).toBe('EAUTH');
    expect(err.command).toBe('API');
    expect(err.message).toBe('Missing credentials for "PLAIN"');
    expect(err.responseCode).toBeUndefined();
    expect(await countDelivered(to)).toBe(0);
  });
});

describe('SMTPS465: implicit TLS, AUTH required', () => {
  it('advertises AUTH PLAIN LOGIN over implicit TLS', async () => {
    const kw = await ehloKeywords(mta.ports.SMTPS465, { implicitTls: true });
    expect(kw).toContain('AUTH PLAIN LOGIN');
  });

  it('control: secure:true + AUTH + trusted CA delivers exactly once', async () => {
    await delivers(transport('SMTPS465', { secure: true, auth, ...withCa }), [uniqueAddress('smtps-ok')]);
  });

  it('secure:false -> no banner: ETIMEDOUT/CONN "Greeting never received" after greetingTimeout', async () => {
    const to = uniqueAddress('smtps-plain');
    const started = Date.now();
    const err = await failure(transport('SMTPS465', { auth, ...withCa, greetingTimeout: 1500 }).sendMail(message(to)));
    const took = Date.now() - started;
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.command).toBe('CONN');
    expect(err.message).toBe('Greeting never received');
    expect(err.timeoutType).toBe('GREETING_TIMEOUT');
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(5000);
    expect(await countDelivered(to)).toBe(0);
  });

  it('no auth -> 554 5.7.1 Access denied at RCPT TO', async () => {
    const to = uniqueAddress('smtps-noauth');
    const err = await failure(transport('SMTPS465', { secure: true, ...withCa }).sendMail(message(to)));
    expect(err.code).toBe('EENVELOPE');
    expect(err.responseCode).toBe(554);
    expect(err.command).toBe('RCPT TO');
    expect(err.response).toMatch(/^554 5\.7\.1 .*Recipient address rejected: Access denied$/);
  });
});

describe('NOAUTH587: STARTTLS optional, AUTH never advertised', () => {
  it('never advertises AUTH, before or after STARTTLS', async () => {
    const before = await ehloKeywords(mta.ports.NOAUTH587);
    expect(before).toContain('STARTTLS');
    expect(before.some((k) => k.startsWith('AUTH'))).toBe(false);
    const after = await ehloKeywords(mta.ports.NOAUTH587, { starttls: true });
    expect(after.some((k) => k.startsWith('AUTH'))).toBe(false);
  });

  it('empty credentials {user:"",pass:""} deliver (nodemailer skips AUTH)', async () => {
    await delivers(transport('NOAUTH587', { auth: { user: '', pass: '' }, ...withCa }), [uniqueAddress('noauth-empty')]);
  });

  it('empty credentials: verify() resolves true', async () => {
    await expect(transport('NOAUTH587', { auth: { user: '', pass: '' }, ...withCa }).verify()).resolves.toBe(true);
  });

  it('empty credentials + forceAuth -> EAUTH/API "Missing credentials"', async () => {
    const to = uniqueAddress('noauth-force');
    const err = await failure(
      transport('NOAUTH587', { auth: { user: '', pass: '' }, forceAuth: true, ...withCa } as SMTPTransport.Options).sendMail(
        message(to),
      ),
    );
    expect(err.code).toBe('EAUTH');
    expect(err.command).toBe('API');
    expect(err.message).toBe('Missing credentials for "PLAIN"');
    expect(await countDelivered(to)).toBe(0);
  });

  it('real credentials: AUTH silently skipped, delivered', async () => {
    await delivers(transport('NOAUTH587', { auth, ...withCa }), [uniqueAddress('noauth-creds')]);
  });
});

describe('HELOSTRICT: bad EHLO names rejected at RCPT TO (smtpd_delay_reject=yes)', () => {
  it("name 'localhost' -> 550 5.7.1 Helo command rejected at RCPT TO, every recipient", async () => {
    const to = [uniqueAddress('helo-localhost-1'), uniqueAddress('helo-localhost-2')];
    const err = await failure(transport('HELOSTRICT', { name: 'localhost' }).sendMail(message(to)));
    expect(err.code).toBe('EENVELOPE');
    expect(err.responseCode).toBe(550);
    expect(err.command).toBe('RCPT TO');
    expect(err.response).toBe("550 5.7.1 <localhost>: Helo command rejected: Don't use hostname localhost");
    expect(err.message).toBe(`Can't send mail - all recipients were rejected: ${err.response}`);
    expect(err.rejected).toEqual(to);
    for (const r of to) expect(await countDelivered(r)).toBe(0);
  });

  it("name 'localhost.localdomain' -> 550 as well", async () => {
    const err = await failure(
      transport('HELOSTRICT', { name: 'localhost.localdomain' }).sendMail(message(uniqueAddress('helo-lld'))),
    );
    expect(err.responseCode).toBe(550);
    expect(err.response).toMatch(/Helo command rejected: Don't use hostname localhost$/);
  });

  it('a dotless name -> 504 5.5.2 need fully-qualified hostname at RCPT TO', async () => {
    const err = await failure(transport('HELOSTRICT', { name: 'nodot' }).sendMail(message(uniqueAddress('helo-nodot'))));
    expect(err.code).toBe('EENVELOPE');
    expect(err.responseCode).toBe(504);
    expect(err.command).toBe('RCPT TO');
    expect(err.response).toBe('504 5.5.2 <nodot>: Helo command rejected: need fully-qualified hostname');
  });

  it('an FQDN delivers', async () => {
    await delivers(transport('HELOSTRICT', { name: 'client.mta.test' }), [uniqueAddress('helo-fqdn')]);
  });

  it("the address literal '[127.0.0.1]' (nodemailer's default on a dotless host) delivers", async () => {
    await delivers(transport('HELOSTRICT', { name: '[127.0.0.1]' }), [uniqueAddress('helo-literal')]);
  });
});

describe('HELOSTRICT_EARLY: bad EHLO names rejected at EHLO (smtpd_delay_reject=no)', () => {
  it("name 'localhost' -> EPROTOCOL 550 at HELO", async () => {
    const to = uniqueAddress('early-localhost');
    const err = await failure(transport('HELOSTRICT_EARLY', { name: 'localhost' }).sendMail(message(to)));
    expect(err.code).toBe('EPROTOCOL');
    expect(err.responseCode).toBe(550);
    expect(err.command).toBe('HELO');
    expect(err.response).toBe("550 5.7.1 <localhost>: Helo command rejected: Don't use hostname localhost");
    expect(await countDelivered(to)).toBe(0);
  });

  it('a dotless name -> EPROTOCOL 504 at HELO', async () => {
    const err = await failure(
      transport('HELOSTRICT_EARLY', { name: 'nodot' }).sendMail(message(uniqueAddress('early-nodot'))),
    );
    expect(err.code).toBe('EPROTOCOL');
    expect(err.responseCode).toBe(504);
    expect(err.command).toBe('HELO');
  });

  it('an FQDN delivers', async () => {
    await delivers(transport('HELOSTRICT_EARLY', { name: 'client.mta.test' }), [uniqueAddress('early-fqdn')]);
  });
});

describe('SENDERCHECK: only @verified.mta.test senders', () => {
  const NOT_ASSOCIATED = 'Sender address rejected: This domain is not associated with your account';

  it('unverified sender -> 550 5.7.1 ... not associated with your account, at MAIL FROM', async () => {
    const to = uniqueAddress('sender-unverified');
    const err = await failure(transport('SENDERCHECK').sendMail(message(to, { from: 'a@unverified.example' })));
    expect(err.code).toBe('EENVELOPE');
    expect(err.responseCode).toBe(550);
    expect(err.command).toBe('MAIL FROM');
    expect(err.response).toBe(`550 5.7.1 <a@unverified.example>: ${NOT_ASSOCIATED}`);
    expect(err.message).toBe(`Mail command failed: ${err.response}`);
    expect(err.permanent).toBe(true);
    expect(err.rejected).toBeUndefined();
    expect(await countDelivered(to)).toBe(0);
  });

  it('the parent domain is not verified either', async () => {
    const err = await failure(transport('SENDERCHECK').sendMail(message(uniqueAddress('sender-parent'), { from: 'a@mta.test' })));
    expect(err.response).toBe(`550 5.7.1 <a@mta.test>: ${NOT_ASSOCIATED}`);
  });

  it('verified sender delivers', async () => {
    await delivers(transport('SENDERCHECK'), [uniqueAddress('sender-verified')], { from: VERIFIED_FROM });
  });

  it('only the envelope sender counts (header From unverified, envelope.from verified)', async () => {
    const to = uniqueAddress('sender-envelope');
    await delivers(transport('SENDERCHECK'), [to], {
      from: 'a@unverified.example',
      envelope: { from: VERIFIED_FROM, to: [to] },
    });
  });
});

describe('TEMPFAIL: per-address 451 / 452 / 550', () => {
  it('sender tempfail@ -> 451 4.7.1 at MAIL FROM', async () => {
    const to = uniqueAddress('tf-sender');
    const err = await failure(transport('TEMPFAIL').sendMail(message(to, { from: 'tempfail@mta.test' })));
    expect(err.code).toBe('EENVELOPE');
    expect(err.responseCode).toBe(451);
    expect(err.command).toBe('MAIL FROM');
    expect(err.response).toBe('451 4.7.1 <tempfail@mta.test>: Sender address rejected: Try again later');
    expect(err.permanent).toBe(false);
    expect(await countDelivered(to)).toBe(0);
  });

  it.each([
    ['tempfail@mta.test', 451, '451 4.7.1 <tempfail@mta.test>: Recipient address rejected: Try again later', false],
    ['full@mta.test', 452, '452 4.2.2 <full@mta.test>: Recipient address rejected: Mailbox full', false],
    ['nouser@mta.test', 550, '550 5.1.1 <nouser@mta.test>: Recipient address rejected: User unknown', true],
  ] as const)('rcpt %s -> %i at RCPT TO', async (rcpt, code, response, permanent) => {
    const before = await countDelivered(rcpt);
    const err = await failure(transport('TEMPFAIL').sendMail(message(rcpt)));
    expect(err.code).toBe('EENVELOPE');
    expect(err.responseCode).toBe(code);
    expect(err.command).toBe('RCPT TO');
    expect(err.response).toBe(response);
    expect(err.permanent).toBe(permanent);
    expect(err.rejected).toEqual([rcpt]);
    expect(await countDelivered(rcpt)).toBe(before);
  });

  it('all three rejected: top-level fields are the FIRST rejection; rejectedErrors has all', async () => {
    const to = ['tempfail@mta.test', 'full@mta.test', 'nouser@mta.test'];
    const err = await failure(transport('TEMPFAIL').sendMail(message(to)));
    expect(err.code).toBe('EENVELOPE');
    expect(err.responseCode).toBe(451);
    expect(err.permanent).toBe(false);
    expect(err.rejected).toEqual(to);
    expect(err.rejectedErrors?.map((e) => e.responseCode)).toEqual([451, 452, 550]);
  });

  it('mixed: good recipients delivered once each, bad ones in info.rejected', async () => {
    const ok = [uniqueAddress('tf-ok1'), uniqueAddress('tf-ok2')];
    const bad = ['tempfail@mta.test', 'full@mta.test', 'nouser@mta.test'];
    const info = await transport('TEMPFAIL').sendMail(message([ok[0]!, ...bad, ok[1]!]));
    expect(info.accepted).toEqual(ok);
    expect(info.rejected).toEqual(bad);
    const rejectedErrors = (info as unknown as { rejectedErrors?: SmtpError[] }).rejectedErrors;
    expect(rejectedErrors?.map((e) => e.responseCode)).toEqual([451, 452, 550]);
    for (const r of ok) expect(await countDelivered(r)).toBe(1);
  });

  it('pool:true, 1 good + full@ -> success, the good one delivered once', async () => {
    const ok = uniqueAddress('tf-pool');
    const t = nodemailer.createTransport({
      pool: true,
      host: mta.host,
      port: mta.ports.TEMPFAIL,
      secure: false,
      greetingTimeout: 2000,
    });
    try {
      const info = await t.sendMail(message([ok, 'full@mta.test']));
      expect(info.accepted).toEqual([ok]);
      expect(info.rejected).toEqual(['full@mta.test']);
    } finally {
      t.close();
    }
    expect(await countDelivered(ok)).toBe(1);
  });
});

describe('counting', () => {
  it('a delivered message is counted exactly once (one file, matching Message-ID)', async () => {
    const to = uniqueAddress('count-once');
    const info = await transport('PLAIN25').sendMail(message(to));
    expect(await countDelivered(to)).toBe(1);
    const copies = listDelivered().filter((c) => c.recipient === to);
    expect(copies).toHaveLength(1);
    expect(copies[0]?.messageId).toBe(info.messageId);
    // and by domain: two recipients in one message -> two copies
    const dom = `@${uniqueAddress('d').split('@')[0]}.mta.test`;
    await transport('PLAIN25').sendMail(message([`a${dom}`, `b${dom}`]));
    expect(await countDelivered(dom)).toBe(2);
    expect(await countDelivered(`a${dom}`)).toBe(1);
  });

  it('countDelivered() with no argument counts everything', async () => {
    const before = await countDelivered();
    await transport('PLAIN25').sendMail(message(uniqueAddress('count-total')));
    expect(await countDelivered()).toBe(before + 1);
  });
});
