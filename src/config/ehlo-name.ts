import { ConfigError } from '../errors/config-error.js';

/** Names that strict servers refuse at EHLO (Postfix's reject_non_fqdn_helo_hostname and the like). */
export function isDubiousEhloName(name: string): boolean {
  const lower = name.toLowerCase();
  if (/^\[.*\]$/.test(lower)) return false; // an address literal is always acceptable
  return lower === 'localhost' || lower.endsWith('.localhost') || lower === 'localhost.localdomain' || !lower.includes('.');
}

/** The domain part of an address, as a host name fit for EHLO (IDNs in punycode), or undefined. */
export function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  if (at < 1) return undefined;
  const domain = address.slice(at + 1).trim().replace(/\.$/, '');
  if (!domain || /[\s<>@]/.test(domain)) return undefined;
  let host: string;
  try {
    host = new URL(`http://${domain}`).hostname;
  } catch {
    return undefined;
  }
  return isDubiousEhloName(host) || host.startsWith('[') ? undefined : host;
}

/**
 * Checks the envelope sender before any connection: `'Docmost <undefined> '`
 * parses to the address `undefined`, which no server accepts.
 */
export function assertSender(from: unknown, shown: unknown): void {
  if (from === '') return; // the null sender <> is legal (bounces)
  if (typeof from !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(from.trim())) {
    throw new ConfigError(
      `The sender ${JSON.stringify(shown ?? from)} does not contain an e-mail address`,
      'Set from (or envelope.from) to an address such as "App <no-reply@example.com>"; check that its environment variable is defined.',
    );
  }
}
