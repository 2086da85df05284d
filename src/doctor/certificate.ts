import type { PeerCertificate, TLSSocket } from 'node:tls';

/** What the doctor reports of a server certificate. */
export interface CertificateFacts {
  subject: string;
  issuer: string;
  /** DNS names and addresses the certificate is valid for. */
  altNames: string[];
  selfSigned: boolean;
  validTo: string;
  /** Whole days until expiry; negative once expired. */
  daysLeft: number;
  /** Node's verdict with the options the app gives (ca, servername). */
  authorized: boolean;
  /** OpenSSL's or Node's reason when not authorized, e.g. DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID. */
  authorizationError: string | undefined;
  protocol: string | undefined;
}

/** Below this many days left, an otherwise good certificate is a warning. */
export const EXPIRY_WARNING_DAYS = 14;

const DAY_MS = 86_400_000;

function commonName(name: PeerCertificate['subject'] | undefined): string {
  const cn = name?.CN;
  return (Array.isArray(cn) ? cn[0] : cn) ?? name?.O?.toString() ?? '(none)';
}

/** Reads the peer certificate of a TLS socket that finished its handshake. */
export function certificateFacts(socket: TLSSocket): CertificateFacts | undefined {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const altNames = (cert.subjectaltname ?? '')
    .split(/,\s*/)
    .map((entry) => entry.replace(/^(DNS|IP Address):/, '').trim())
    .filter(Boolean);
  const validTo = new Date(cert.valid_to);
  const authError = socket.authorizationError as unknown;
  return {
    subject: commonName(cert.subject),
    issuer: commonName(cert.issuer),
    altNames,
    selfSigned: JSON.stringify(cert.subject) === JSON.stringify(cert.issuer),
    validTo: Number.isNaN(validTo.getTime()) ? cert.valid_to : validTo.toISOString().slice(0, 10),
    daysLeft: Math.floor((validTo.getTime() - Date.now()) / DAY_MS),
    authorized: socket.authorized,
    authorizationError: authError === undefined || authError === null ? undefined : String((authError as { code?: string }).code ?? authError),
    protocol: socket.getProtocol() ?? undefined,
  };
}

/** One line: `CN=mail.example.com, issued by R11, valid to 2026-02-01 (68 days)`. */
export function describeCertificate(facts: CertificateFacts): string {
  const issuer = facts.selfSigned ? 'self-signed' : `issued by ${facts.issuer}`;
  const days = facts.daysLeft < 0 ? `expired ${-facts.daysLeft} days ago` : `${facts.daysLeft} days left`;
  return `CN=${facts.subject}, ${issuer}, valid to ${facts.validTo} (${days})`;
}
