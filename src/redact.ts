/**
 * Removes known secrets from text. Every string that leaves the library
 * (error messages, hints, log lines, diagnostics) goes through one of these,
 * so a password can only leak if it is not known to us.
 */
export type Redactor = (text: string) => string;

const MASK = '***';

/** The secrets worth masking: what `auth` holds, and how they travel on the wire (base64). */
export function collectSecrets(auth: unknown): string[] {
  if (!auth || typeof auth !== 'object') return [];
  const record = auth as Record<string, unknown>;
  const raw = ['pass', 'password', 'accessToken', 'refreshToken', 'clientSecret', 'privateKey']
    .map((key) => record[key])
    .filter((value): value is string => typeof value === 'string' && value.length >= 3);
  const user = typeof record['user'] === 'string' ? record['user'] : '';
  const out = new Set<string>();
  for (const secret of raw) {
    out.add(secret);
    out.add(Buffer.from(secret).toString('base64'));
    // AUTH PLAIN carries "\0user\0pass" in base64
    out.add(Buffer.from(`\u0000${user}\u0000${secret}`).toString('base64'));
    out.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret that contains another is masked whole.
  return [...out].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}

export function createRedactor(secrets: readonly string[]): Redactor {
  if (secrets.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const secret of secrets) {
      if (out.includes(secret)) out = out.split(secret).join(MASK);
    }
    return out;
  };
}

/** Masks the password of a `smtp://user:pass@host` URL. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, `$1${MASK}@`);
}

/** A copy of options that is safe to print: secrets masked, functions and objects like loggers named. */
export function maskOptions(value: unknown, depth = 0): unknown {
  if (depth > 4) return '[…]';
  if (typeof value === 'string') return redactUrl(value);
  if (typeof value === 'function') return '[function]';
  if (Array.isArray(value)) return value.map((v) => maskOptions(v, depth + 1));
  if (!value || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value)) return '[buffer]';
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (/^(pass|password|accessToken|refreshToken|clientSecret|privateKey|key|pfx|passphrase)$/i.test(key)) {
      out[key] = v === undefined || v === '' ? v : MASK;
    } else if (key === 'logger' || key === 'transport' || key === 'signal') {
      out[key] = v === undefined || typeof v === 'boolean' ? v : '[object]';
    } else {
      out[key] = maskOptions(v, depth + 1);
    }
  }
  return out;
}
