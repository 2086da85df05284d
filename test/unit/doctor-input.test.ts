/**
 * How the doctor reads a configuration (environment, flags, URL) and writes
 * a fix for it. Pure: no sockets.
 */
import { describe, expect, it } from 'vitest';
import { UsageError, parseDoctorArgs } from '../../src/doctor/args.js';
import { settingLine } from '../../src/doctor/fix.js';
import { readInput } from '../../src/doctor/input.js';

const read = (argv: string[], env: Record<string, string>) => readInput(parseDoctorArgs(argv), env);

describe('doctor input', () => {
  it('reads the variables apps use, the first non-empty of each pair', () => {
    const input = read([], { SMTP_HOST: 'smtp.example.com', SMTP_PORT: '587', SMTP_USERNAME: '', SMTP_USER: 'app', SMTP_PASS: 'pw-123', MAIL_FROM: 'App <app@example.com>' });
    expect(input.smtp).toMatchObject({ host: 'smtp.example.com', port: 587, auth: { user: 'app', pass: 'pw-123' } });
    expect(input.origins.user).toEqual({ kind: 'env', name: 'SMTP_USER' });
    expect(input.fromAddress).toBe('app@example.com');
    expect(input.ehloName).toBe('example.com');
    expect(input.ehloNameSource).toBe('sender');
  });

  it('lets flags override the variables', () => {
    const input = read(['--host', '127.0.0.1', '--port', '2525'], { SMTP_HOST: 'smtp.example.com', SMTP_PORT: '587' });
    expect(input.smtp).toMatchObject({ host: '127.0.0.1', port: 2525 });
    expect(input.origins.port).toEqual({ kind: 'flag', name: '--port' });
  });

  it('lets a URL replace the separate variables, as nodemailer does, and flags override the URL', () => {
    const input = read(['--port', '2465'], { SMTP_URL: 'smtps://app:p%40ss@smtp.example.com:465', SMTP_HOST: 'ignored.example.com', SMTP_FROM: 'app@example.com' });
    expect(input.smtp).toMatchObject({ host: 'smtp.example.com', port: 2465, secure: true, auth: { user: 'app', pass: 'p@ss' } });
    expect(input.url?.redacted).toBe('smtps://app:***@smtp.example.com:465');
    expect(input.redact('pass p@ss or p%40ss')).toBe('pass *** or ***');
  });

  it('applies resilient() normalisation: empty credentials are dropped, port 465 means implicit TLS', () => {
    const input = read([], { SMTP_HOST: 'smtp.example.com', SMTP_PORT: '465', SMTP_SECURE: 'false', SMTP_USER: '', SMTP_PASS: '' });
    expect(input.smtp.auth).toBeUndefined();
    expect(input.smtp.secure).toBe(true);
    expect(input.config.destinations[0]!.notes.join('\n')).toMatch(/AUTH is skipped/);
  });

  it.each([
    [['--prot', '1'], {}, UsageError, /Unknown option '--prot'/],
    [[], { SMTP_HOST: 'h', SMTP_PORT: 'abc' }, Error, /Expected `port` to be a whole number/],
    [[], {}, Error, /No SMTP host is set/],
    [['smtp://u:p@[bad'], {}, Error, /does not parse/],
    [['--ca', '/nonexistent/ca.pem'], { SMTP_HOST: 'h' }, UsageError, /Cannot read the --ca file/],
  ])('rejects %j %j before any connection', (argv, env, type, message) => {
    expect(() => read(argv, env)).toThrow(type);
    expect(() => read(argv, env)).toThrow(message);
  });
});

describe('doctor fix lines', () => {
  it('names the variable the value came from', () => {
    const input = read([], { SMTP_HOST: 'h.example.com', SMTP_PORT: '2525', SMTP_SECURE: 'true' });
    expect(settingLine(input, 'secure', false)).toBe('SMTP_SECURE=false');
  });

  it('rewrites the URL when a URL gave the setting, password masked', () => {
    const input = read([], { EMAIL_SERVER: 'smtps://app:secret-pw@smtp.example.com:2525' });
    expect(settingLine(input, 'secure', false)).toBe('EMAIL_SERVER=smtp://app:***@smtp.example.com:2525');
  });
});
