import { describe, expect, it } from 'vitest';
import { classifyError, enhancedStatusOf, factsOf, type FailureFacts } from '../../src/index.js';

type Row = [title: string, facts: FailureFacts, name: string, retryable: boolean, hint: RegExp];

// Replies and fields as nodemailer reports them (shared/smtp-rig OBSERVED.md, nodemailer 10.6 and 6.9).
const ssl = '80FC2B8A9C7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n';
const rows: Row[] = [
  // TLS
  ['secure: true against a plaintext port', { code: 'ESOCKET', command: 'CONN', message: ssl, port: 587, secure: true }, 'TlsError', false, /secure: false/],
  ['secure: false against an implicit-TLS port (Greeting never received)', { code: 'ETIMEDOUT', command: 'CONN', message: 'Greeting never received', timeoutType: 'GREETING_TIMEOUT', port: 465, secure: false }, 'TlsError', false, /secure: true/],
  ['a greeting timeout on nodemailer 6.x (no timeoutType)', factsOf(Object.assign(new Error('Greeting never received'), { code: 'ETIMEDOUT', command: 'CONN' })), 'TlsError', false, /secure: true/],
  ['a self-signed certificate', { code: 'ESOCKET', command: 'CONN', message: 'self-signed certificate', originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'TlsError', false, /tls\.ca/],
  ['an expired certificate', { code: 'ESOCKET', command: 'CONN', message: 'certificate has expired', originalCode: 'CERT_HAS_EXPIRED' }, 'TlsError', false, /expired/],
  ['a certificate for another host', { code: 'ESOCKET', command: 'CONN', message: "Hostname/IP does not match certificate's altnames: Host: a. is not in the cert's altnames: DNS:b", originalCode: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'TlsError', false, /servername/],
  ['530 5.7.0 Must issue a STARTTLS command first', { code: 'EENVELOPE', responseCode: 530, command: 'MAIL FROM', response: '530 5.7.0 Must issue a STARTTLS command first', permanent: true }, 'TlsError', false, /ignoreTLS/],
  ['538 encryption required', { code: 'EAUTH', responseCode: 538, command: 'AUTH PLAIN', response: '538 5.7.11 Encryption required for requested authentication mechanism' }, 'TlsError', false, /TLS/],
  ['454 at STARTTLS', { code: 'ETLS', responseCode: 454, command: 'STARTTLS', response: '454 4.7.0 TLS not available due to local problem' }, 'TlsError', true, /retried/],
  // AUTH
  ['535 wrong password', { code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN', response: '535 5.7.8 Error: authentication failed: authentication failure', permanent: true }, 'AuthError', false, /auth\.user and auth\.pass/],
  ['534 application-specific password required', { code: 'EAUTH', responseCode: 534, command: 'AUTH PLAIN', response: '534-5.7.9 Application-specific password required.' }, 'AuthError', false, /app password/],
  ['missing credentials', { code: 'EAUTH', command: 'API', message: 'Missing credentials for "PLAIN"' }, 'AuthError', false, /auth\.user and auth\.pass/],
  ['454 at AUTH', { code: 'EAUTH', responseCode: 454, command: 'AUTH PLAIN', response: '454 4.7.0 Temporary authentication failure' }, 'AuthError', true, /retried/],
  ["Plunk's 530 authentication Required", { code: 'EENVELOPE', responseCode: 530, command: 'MAIL FROM', response: '530 authentication Required' }, 'AuthError', false, /set auth/],
  ["Postfix's 554 Access denied at RCPT (no AUTH)", { code: 'EENVELOPE', responseCode: 554, command: 'RCPT TO', response: '554 5.7.1 <rcpt@rig.test>: Recipient address rejected: Access denied', rejectedCodes: [554] }, 'AuthError', false, /set auth/],
  ['503 authentication not enabled', { code: 'EAUTH', responseCode: 503, command: 'AUTH PLAIN', response: '503 5.5.1 Error: authentication not enabled' }, 'AuthError', false, /leave auth out/],
  // HELO
  ['the EHLO name refused at EHLO', { code: 'EPROTOCOL', responseCode: 550, command: 'HELO', response: "550 5.7.1 <localhost>: Helo command rejected: Don't use hostname localhost" }, 'HeloRejectedError', false, /name/],
  ['the EHLO name refused at RCPT (delayed rejection)', { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', response: "550 5.7.1 <localhost>: Helo command rejected: Don't use hostname localhost", rejectedCodes: [550] }, 'HeloRejectedError', false, /fully qualified/],
  ['504 need fully-qualified hostname', { code: 'EENVELOPE', responseCode: 504, command: 'RCPT TO', response: '504 5.5.2 <vm>: Helo command rejected: need fully-qualified hostname' }, 'HeloRejectedError', false, /name/],
  // Sender
  ["Plunk's unverified domain", { code: 'EENVELOPE', responseCode: 550, command: 'MAIL FROM', response: '550 This domain is not associated with your account' }, 'SenderRejectedError', false, /verify the sending domain/],
  ['550 Please verify your domain', { code: 'EENVELOPE', responseCode: 550, command: 'MAIL FROM', response: '550 Please verify your domain' }, 'SenderRejectedError', false, /verif/],
  ["Postfix's Sender address rejected", { code: 'EENVELOPE', responseCode: 550, command: 'MAIL FROM', response: '550 5.7.1 <a@x.example>: Sender address rejected: This domain is not associated with your account' }, 'SenderRejectedError', false, /verif/],
  ['451 at MAIL FROM', { code: 'EENVELOPE', responseCode: 451, command: 'MAIL FROM', response: '451 4.7.1 <tempfail@rig.test>: Sender address rejected: Try again later', permanent: false }, 'SenderRejectedError', true, /retried/],
  // Recipients
  ['451 greylisting', { code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO', response: '451 4.7.1 <a@b>: Recipient address rejected: Try again later', rejectedCodes: [451] }, 'RecipientsRejectedError', true, /retried/],
  ['452 mailbox full', { code: 'EENVELOPE', responseCode: 452, command: 'RCPT TO', response: '452 4.2.2 <full@rig.test>: Recipient address rejected: Mailbox full', rejectedCodes: [452] }, 'RecipientsRejectedError', true, /full/],
  ['450 mailbox unavailable', { code: 'EENVELOPE', responseCode: 450, command: 'RCPT TO', response: '450 4.2.0 <a@b>: Recipient address rejected: Greylisted', rejectedCodes: [450] }, 'RecipientsRejectedError', true, /retried/],
  ['550 5.1.1 user unknown', { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', response: '550 5.1.1 <nouser@rig.test>: Recipient address rejected: User unknown', rejectedCodes: [550] }, 'RecipientsRejectedError', false, /does not exist/],
  ['all refused, mixed 4xx and 5xx (nodemailer 6.x reports the last)', { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', response: '550 5.1.1 <nouser@rig.test>: User unknown', rejectedCodes: [451, 550] }, 'RecipientsRejectedError', true, /./],
  // 421, throttling, end of data
  ['421 at the greeting', { code: 'EPROTOCOL', responseCode: 421, command: 'CONN', response: '421 4.3.2 Service not available, closing transmission channel' }, 'ConnectionError', true, /retried/],
  ['421 at RCPT', { code: 'EENVELOPE', responseCode: 421, command: 'RCPT TO', response: '421 4.7.0 Too many connections' }, 'ConnectionError', true, /retried/],
  ['a 4xx daily quota that a retry will not clear', { code: 'EENVELOPE', responseCode: 451, command: 'MAIL FROM', response: '451 4.7.1 Daily sending quota exceeded' }, 'SenderRejectedError', false, /./],
  ['a 5xx that says try again later', { code: 'EMESSAGE', responseCode: 554, command: 'DATA', response: '554 5.7.0 Service temporarily unavailable, try again later' }, 'MessageRejectedError', true, /retried/],
  ['a 5xx blocklist reply that mentions unavailable', { code: 'EMESSAGE', responseCode: 554, command: 'DATA', response: '554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked using zen.spamhaus.org' }, 'MessageRejectedError', false, /./],
  ['552 at end of data', { code: 'EMESSAGE', responseCode: 552, command: 'DATA', response: '552 5.3.4 Message size exceeds fixed limit' }, 'MessageRejectedError', false, /smaller/],
  ['554 at end of data', { code: 'EMESSAGE', responseCode: 554, command: 'DATA', response: '554 5.7.1 Message rejected as spam' }, 'MessageRejectedError', false, /content/],
  ['451 at end of data', { code: 'EMESSAGE', responseCode: 451, command: 'DATA', response: '451 4.3.0 Error: queue file write error' }, 'MessageRejectedError', true, /retried/],
  // Connection
  ['connection refused', { code: 'ESOCKET', command: 'CONN', message: 'connect ECONNREFUSED 127.0.0.1:1', originalCode: 'ECONNREFUSED', destination: '127.0.0.1:1' }, 'ConnectionError', true, /127\.0\.0\.1:1/],
  ['connection reset', { code: 'ESOCKET', command: 'CONN', message: 'read ECONNRESET', originalCode: 'ECONNRESET' }, 'ConnectionError', true, /retried/],
  ['a closed socket on nodemailer 6.x (no code)', factsOf(new Error('Unexpected socket close')), 'ConnectionError', true, /retried/],
  ['a closed socket on nodemailer 6.x after the final dot', { ...factsOf(new Error('Unexpected socket close')), bodySent: true }, 'DeliveryUnknownError', false, /may have been accepted/],
  ['closed unexpectedly', { code: 'ECONNECTION', command: 'CONN', message: 'Connection closed unexpectedly' }, 'ConnectionError', true, /retried/],
  ['DNS failure', { code: 'EDNS', command: 'CONN', message: 'getaddrinfo ENOTFOUND smtp.exampel.com', originalCode: 'ENOTFOUND' }, 'ConnectionError', false, /SMTP_HOST/],
  ['a connection timeout (nodemailer 10)', { code: 'ETIMEDOUT', command: 'CONN', message: 'Connection timeout', timeoutType: 'CONNECT_TIMEOUT' }, 'ConnectionError', true, /firewall/],
  ['a connection timeout (nodemailer 6.x)', factsOf(Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT', command: 'CONN' })), 'ConnectionError', true, /firewall/],
  ['a STARTTLS handshake timeout', { code: 'ETIMEDOUT', command: 'CONN', message: 'TLS handshake timed out', timeoutType: 'UPGRADE_TIMEOUT' }, 'ConnectionError', true, /TLS handshake/],
  ['a socket timeout mid-session', { code: 'ETIMEDOUT', command: 'CONN', message: 'Timeout', timeoutType: 'SOCKET_TIMEOUT' }, 'ConnectionError', true, /socketTimeout/],
  ['a DNS timeout', { code: 'ETIMEDOUT', command: 'CONN', message: 'DNS lookup timed out', timeoutType: 'DNS_TIMEOUT' }, 'ConnectionError', true, /DNS/],
  ['a greeting timeout over TLS', { code: 'ETIMEDOUT', command: 'CONN', message: 'Greeting never received', timeoutType: 'GREETING_TIMEOUT', secure: true }, 'ConnectionError', true, /greetingTimeout/],
  ['a drop after the final dot', { code: 'ECONNECTION', command: 'CONN', message: 'Connection closed unexpectedly', bodySent: true }, 'DeliveryUnknownError', false, /resendOnUnknownDelivery/],
  ['a drop mid-body', { code: 'ECONNECTION', command: 'CONN', message: 'Connection closed unexpectedly', bodySent: false }, 'ConnectionError', true, /retried/],
  ['a config error', { code: 'ECONFIG', message: 'bad' }, 'ConfigError', false, /./],
  ['an error a custom transport threw', { message: 'boom' }, 'MailError', false, /cause/],
];

describe('the classification table', () => {
  it.each(rows)('classifies %s', (_title, facts, name, retryable, hint) => {
    const result = classifyError(facts);
    expect({ name: result.name, retryable: result.retryable }).toEqual({ name, retryable });
    expect(result.hint).toMatch(hint);
  });

  it('follows nodemailer 10 permanent over the reply code, and 6.x (no permanent) by the code', () => {
    const base: FailureFacts = { code: 'EENVELOPE', responseCode: 503, command: 'MAIL FROM', response: '503 5.5.1 Error: need RCPT command' };
    expect(classifyError({ ...base, permanent: false }).retryable).toBe(true);
    expect(classifyError(base).retryable).toBe(false);
  });

  it('reads the enhanced status code off a reply', () => {
    expect(enhancedStatusOf('550 5.7.1 <localhost>: Helo command rejected')).toBe('5.7.1');
    expect(enhancedStatusOf('534-5.7.9 Application-specific password required.')).toBe('5.7.9');
    expect(enhancedStatusOf('550 This domain is not associated with your account')).toBeUndefined();
  });
});
