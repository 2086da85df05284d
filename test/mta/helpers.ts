/**
 * Helpers for the real-Postfix suite (test/mta). The instance is started by
 * test/mta/global-setup.ts (test/mta/postfix/start.sh), which writes
 * `$MTA_STATE/mta.json`; everything here reads that file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const MTA_STATE = process.env['MTA_STATE'] ?? '/tmp/nodemailer-resilient-mta';

export type Listener =
  | 'PLAIN25'
  | 'SUBMISSION587'
  | 'SMTPS465'
  | 'NOAUTH587'
  | 'HELOSTRICT'
  | 'HELOSTRICT_EARLY'
  | 'SENDERCHECK'
  | 'TEMPFAIL';

export interface MtaInfo {
  /** Always '127.0.0.1' (never 'localhost': nodemailer would ask DNS first). */
  host: string;
  ports: Record<Listener, number>;
  /** The self-signed server certificate; it is its own CA. */
  caFile: string;
  /** CN of the certificate (also in its SAN, with localhost and 127.0.0.1). */
  tlsServername: string;
  /** SASL login (the full address, e.g. user@mta.test). */
  user: string;
  /** SASL password, random per start. */
  pass: string;
  /** The sink maildir: one file per delivered recipient copy. */
  maildir: string;
  queueDir: string;
  maillog: string;
  state: string;
  masterPid: number;
}

let cached: MtaInfo | undefined;

/** The running instance, as start.sh described it in `$MTA_STATE/mta.json`. */
export function loadMta(): MtaInfo {
  if (!cached) {
    const file = join(MTA_STATE, 'mta.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(
        `${file} is missing: the test MTA is not running. Run the suite with "npm run test:mta" ` +
          `(its globalSetup runs test/mta/postfix/start.sh), or run that script as root.`,
        { cause: err },
      );
    }
    cached = JSON.parse(text) as MtaInfo;
  }
  return cached;
}

/** PEM of the server certificate, for `tls: { ca: [caPem()] }`. */
export function caPem(): string {
  return readFileSync(loadMta().caFile, 'utf8');
}

/** A unique local part per call, so parallel/repeated tests count their own mail. */
export function uniqueAddress(tag: string, domain = 'mta.test'): string {
  const rnd = Math.random().toString(36).slice(2, 8);
  return `${tag}-${process.pid}-${Date.now().toString(36)}-${rnd}@${domain}`.toLowerCase();
}

const QUEUES = ['maildrop', 'incoming', 'active', 'deferred', 'hold'] as const;

function listFiles(dir: string): string[] {
  let out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out = out.concat(listFiles(p));
    else out.push(p);
  }
  return out;
}

/** Messages Postfix still holds (not yet delivered or bounced). */
export function queuedCount(): number {
  const { queueDir } = loadMta();
  return QUEUES.reduce((n, q) => n + listFiles(join(queueDir, q)).length, 0);
}

/** Tail of the Postfix log, for failure messages. */
export function maillogTail(lines = 30): string {
  try {
    return readFileSync(loadMta().maillog, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no maillog)';
  }
}

/** Wait until Postfix's queue is empty; throws (with the log tail) after `timeoutMs`. */
export async function waitForQueueEmpty(timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = queuedCount();
    if (n === 0) return;
    if (Date.now() >= deadline) {
      throw new Error(`${n} message(s) still in the Postfix queue after ${timeoutMs} ms\n${maillogTail()}`);
    }
    await sleep(50);
  }
}

export interface DeliveredCopy {
  file: string;
  /** From the `Delivered-To:` header virtual(8) prepends (lower-cased). */
  recipient: string;
  messageId: string | undefined;
  subject: string | undefined;
}

/** Every delivered copy in the sink maildir (header scan only). */
export function listDelivered(): DeliveredCopy[] {
  const { maildir } = loadMta();
  const files = [...listFiles(join(maildir, 'new')), ...listFiles(join(maildir, 'cur'))].sort();
  return files.map((file) => {
    const text = readFileSync(file, 'utf8');
    const end = text.search(/\r?\n\r?\n/);
    const head = (end === -1 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
    const header = (name: string): string | undefined => {
      const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head);
      return m?.[1]?.trim();
    };
    return {
      file,
      recipient: (header('Delivered-To') ?? '').toLowerCase(),
      messageId: header('Message-ID'),
      subject: header('Subject'),
    };
  });
}

/**
 * How many copies Postfix delivered, after its queue has drained (a
 * `250 ... queued as` reply means "in the queue", so an empty queue means
 * "delivered"). One file = one delivered recipient copy.
 *
 * @param recipient an address (exact, case-insensitive) or `@domain`; omit for all.
 */
export async function countDelivered(recipient?: string, timeoutMs = 10_000): Promise<number> {
  await waitForQueueEmpty(timeoutMs);
  const copies = listDelivered();
  if (recipient === undefined) return copies.length;
  const want = recipient.toLowerCase();
  return copies.filter((c) => (want.startsWith('@') ? c.recipient.endsWith(want) : c.recipient === want)).length;
}

/**
 * The EHLO keywords a listener advertises (raw socket, no nodemailer), e.g.
 * ['PIPELINING', 'SIZE 10240000', 'STARTTLS', ...]. With `starttls: true` it
 * upgrades first and returns the keywords offered after STARTTLS.
 */
export async function ehloKeywords(
  port: number,
  opts: { name?: string; starttls?: boolean; implicitTls?: boolean } = {},
): Promise<string[]> {
  const net = await import('node:net');
  const tls = await import('node:tls');
  const { host } = loadMta();
  const name = opts.name ?? 'client.mta.test';
  type Sock = import('node:net').Socket;

  const readReply = (sock: Sock): Promise<string[]> =>
    new Promise((resolve, reject) => {
      let buf = '';
      const onData = (chunk: Buffer): void => {
        buf += chunk.toString('utf8');
        const lines = buf.split('\r\n');
        const last = lines[lines.length - 2];
        if (last !== undefined && /^\d{3} /.test(last)) {
          cleanup();
          resolve(lines.slice(0, -1));
        }
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const onClose = (): void => {
        cleanup();
        reject(new Error(`connection closed; got: ${JSON.stringify(buf)}`));
      };
      const cleanup = (): void => {
        sock.off('data', onData);
        sock.off('error', onError);
        sock.off('close', onClose);
      };
      sock.on('data', onData);
      sock.on('error', onError);
      sock.on('close', onClose);
    });
  const command = async (sock: Sock, line: string): Promise<string[]> => {
    const reply = readReply(sock);
    sock.write(`${line}\r\n`);
    return reply;
  };
  const expectCode = (reply: string[], code: string): void => {
    if (!reply[0]?.startsWith(code)) throw new Error(`expected ${code}, got ${reply.join(' | ')}`);
  };

  let sock: Sock = opts.implicitTls
    ? tls.connect({ host, port, ca: [caPem()] })
    : net.connect({ host, port });
  sock.setTimeout(5000, () => sock.destroy(new Error('timeout talking to the test MTA')));
  try {
    expectCode(await readReply(sock), '220');
    let ehlo = await command(sock, `EHLO ${name}`);
    expectCode(ehlo, '250');
    if (opts.starttls) {
      expectCode(await command(sock, 'STARTTLS'), '220');
      const plain = sock;
      sock = await new Promise<Sock>((resolve, reject) => {
        const s = tls.connect({ socket: plain, ca: [caPem()], servername: loadMta().tlsServername }, () => resolve(s));
        s.once('error', reject);
      });
      ehlo = await command(sock, `EHLO ${name}`);
      expectCode(ehlo, '250');
    }
    sock.write('QUIT\r\n');
    return ehlo.slice(1).map((l) => l.slice(4));
  } finally {
    sock.destroy();
  }
}

/** Lines of the Postfix log that contain `needle` (e.g. a unique address). */
export function maillogLines(needle: string): string[] {
  try {
    return readFileSync(loadMta().maillog, 'utf8')
      .split('\n')
      .filter((l) => l.includes(needle));
  } catch {
    return [];
  }
}

/**
 * What the SERVER saw: waits (postlogd writes asynchronously) until at least
 * `atLeast` log lines contain every needle, then a short extra moment so a
 * surplus would show too, and returns them.
 */
export async function waitForMaillog(needles: string[], atLeast: number, timeoutMs = 3000): Promise<string[]> {
  const matching = (): string[] => maillogLines(needles[0] ?? '').filter((l) => needles.every((n) => l.includes(n)));
  const deadline = Date.now() + timeoutMs;
  while (matching().length < atLeast && Date.now() < deadline) await sleep(50);
  await sleep(200);
  return matching();
}

/** The raw header block of the single delivered copy for `recipient` (throws unless exactly one). */
export async function deliveredHeader(recipient: string): Promise<string> {
  await waitForQueueEmpty();
  const copies = listDelivered().filter((c) => c.recipient === recipient.toLowerCase());
  if (copies.length !== 1) throw new Error(`expected exactly one copy for ${recipient}, found ${copies.length}`);
  const text = readFileSync(copies[0]!.file, 'utf8');
  const end = text.search(/\r?\n\r?\n/);
  return end === -1 ? text : text.slice(0, end);
}
