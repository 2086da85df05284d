import { ConfigError } from '../errors/config-error.js';
import type { SmtpOptions } from '../options.js';

const isEmpty = (value: unknown): boolean => value === undefined || value === null || value === '';

/**
 * Empty credentials from env (`SMTP_USERNAME=`) mean "no AUTH", not
 * `Missing credentials for "PLAIN"` against a relay that needs none.
 */
export function normalizeAuth(options: SmtpOptions, dropEmpty: boolean, notes: string[]): void {
  const auth = options.auth;
  if (auth === undefined || auth === null) return;
  if (typeof auth !== 'object') {
    throw new ConfigError(
      `Expected \`auth\` to be an object with user and pass, got ${typeof auth}`,
      'Set auth: { user, pass }, or leave auth out when the server needs no login.',
    );
  }
  if ('password' in auth) {
    throw new ConfigError(
      '`auth.password` is not an option nodemailer reads (it reads `auth.pass`), so the login would go without a password',
      'Rename auth.password to auth.pass.',
    );
  }
  const type = typeof auth.type === 'string' ? auth.type.toLowerCase() : 'login';
  // OAuth2 and custom methods carry their own fields; they are not ours to judge.
  if (type !== 'login') return;
  const userEmpty = isEmpty(auth.user);
  const passEmpty = isEmpty(auth.pass);
  if (userEmpty && passEmpty) {
    if (!dropEmpty) return;
    delete options.auth;
    notes.push('`auth.user` and `auth.pass` are empty: AUTH is skipped');
    return;
  }
  if (userEmpty || passEmpty) {
    const field = userEmpty ? 'user' : 'pass';
    throw new ConfigError(
      `\`auth.${field}\` is empty while \`auth.${field === 'user' ? 'pass' : 'user'}\` is set`,
      `Set auth.${field} (check that its environment variable is defined), or leave both empty when the server needs no login.`,
    );
  }
}
