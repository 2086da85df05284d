import { ConfigError } from '../errors/config-error.js';
import type { SmtpOptions } from '../options.js';

/** Ports whose TLS mode is fixed by convention (RFC 8314 for 465, RFC 3207 for the STARTTLS ports). */
const IMPLICIT_TLS_PORTS = new Set([465]);
const STARTTLS_PORTS = new Set([25, 587, 2525]);

/**
 * Reads `port` the way an app's config hands it over. `NaN`, `''` and
 * `undefined` mean "not set" (nodemailer then picks 465 or 587 from
 * `secure`); anything else must be a whole number from 1 to 65535.
 */
export function parsePort(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' && Number.isNaN(value)) return undefined;
  const text = typeof value === 'string' ? value.trim() : value;
  const port = typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : text;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(
      `Expected \`port\` to be a whole number from 1 to 65535, got ${JSON.stringify(value)}`,
      'Set port to the number your provider gives: 587 (STARTTLS) or 465 (implicit TLS) in most cases.',
    );
  }
  return port;
}

/** `secure` from an env var arrives as a string, and nodemailer treats `'false'` as true. */
export function parseSecure(value: unknown, notes: string[]): boolean | undefined {
  if (value === undefined || value === null || typeof value === 'boolean') return value ?? undefined;
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (['true', '1', 'yes'].includes(text)) {
      notes.push(`\`secure: ${JSON.stringify(value)}\` was read as true`);
      return true;
    }
    if (['false', '0', 'no', ''].includes(text)) {
      notes.push(`\`secure: ${JSON.stringify(value)}\` was read as false (nodemailer would have read any non-empty string as true)`);
      return false;
    }
  }
  throw new ConfigError(
    `Expected \`secure\` to be a boolean, got ${JSON.stringify(value)}`,
    'Set secure to true for implicit TLS (port 465) or false for STARTTLS (ports 587, 25, 2525).',
  );
}

/**
 * The port decides the TLS mode. A mismatch otherwise ends in
 * `wrong version number` or a 30 s `Greeting never received`.
 */
export function applyTlsMode(options: SmtpOptions, port: number | undefined, notes: string[]): void {
  if (port === undefined) return;
  if (IMPLICIT_TLS_PORTS.has(port) && options.secure !== true) {
    if (options.secure === false) {
      notes.push(`port ${port} uses implicit TLS: \`secure: false\` was ignored, the connection starts with TLS`);
    }
    options.secure = true;
    return;
  }
  if (STARTTLS_PORTS.has(port) && options.secure === true) {
    if (options.ignoreTLS) {
      throw new ConfigError(
        `port ${port} starts in plaintext, and \`secure: true\` asks for encryption that \`ignoreTLS: true\` would refuse`,
        `Remove ignoreTLS, or set secure: false if port ${port} may really be used without encryption.`,
      );
    }
    options.secure = false;
    options.requireTLS = true;
    notes.push(`port ${port} uses STARTTLS: \`secure: true\` was ignored, STARTTLS is required`);
  }
}
