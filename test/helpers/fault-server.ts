/**
 * A small SMTP server for tests that fails on purpose.
 *
 * It speaks enough ESMTP for nodemailer (EHLO/HELO, AUTH PLAIN/LOGIN, MAIL,
 * RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT, several messages per
 * connection) and injects a fault at a chosen step: it drops the socket, never
 * answers, or answers with a given reply. It also counts, per Message-ID, how
 * many complete bodies arrived and how many of them were acknowledged, so a
 * test can tell "delivered exactly once" from "sent twice" and from "sent, fate
 * unknown".
 *
 * Built on `node:net` alone (no smtp-server) so that every byte and every
 * moment of a failure is under the test's control. Listens on 127.0.0.1 only,
 * on an ephemeral port.
 *
 * Where each fault happens:
 *
 * | phase      | the fault replaces                                     |
 * |------------|--------------------------------------------------------|
 * | `connect`  | everything: the socket is dropped (or left silent) before any byte is written; only `'drop'`/`'stall'` |
 * | `greeting` | the 220 banner; `'drop'` writes half a banner and drops |
 * | `ehlo`     | the reply to EHLO, and to the HELO a client falls back to |
 * | `auth`     | the reply to AUTH                                      |
 * | `mail`     | the reply to MAIL FROM                                 |
 * | `rcpt`     | the reply to RCPT TO (every recipient of the transaction, or only `recipient`) |
 * | `data`     | the reply to the DATA command (354)                    |
 * | `body`     | nothing yet due: fires once the header block of the body arrived, before the final dot. A reply here is written and the connection closed. On loopback the kernel absorbs up to ~4 MB before the server reads: use a body of 8 MB or more when the client must still be writing (a smaller one is already written in full, dot included, when the fault fires). |
 * | `dot`      | the reply after the final "." (250); the body counts as received |
 *
 * Actions: `'drop'` destroys the socket; `'stall'` stops answering (the client
 * has to time out); `{ reply: '451 4.3.0 Try again later' }` answers with that
 * line. After any 421 reply the server closes the connection, as RFC 5321
 * says a server does.
 *
 * Plans: `faults` is a rule or a list of rules; a rule fires the first `times`
 * times (default 1, `Infinity` for always) a session reaches its phase, and can
 * be narrowed to one message (`messageId`, phases 'body'/'dot') or one
 * recipient (`recipient`). `random: { rate, seed }` fails each connection (and,
 * with `per: 'message'`, each further message on it) with probability `rate`,
 * at a phase and with an action drawn from a seeded PRNG.
 *
 * Counting: `stats.receipts` lists every complete body with its outcome
 * ('acknowledged', 'refused', 'unanswered'); `counts(messageId)` gives
 * `{ received, acknowledged }`. "Delivered exactly once" is
 * `{ received: 1, acknowledged: 1 }`; "sent, fate unknown, not resent" is
 * `{ received: 1, acknowledged: 0 }`.
 *
 * @example
 * const server = await startFaultServer({ faults: { phase: 'dot', action: 'drop' } });
 * const transport = nodemailer.createTransport({ host: server.host, port: server.port, secure: false, ignoreTLS: true });
 * await transport.sendMail({ ..., messageId: '<m1@test>' }).catch(() => {});
 * server.counts('<m1@test>'); // { received: 1, acknowledged: 0 }
 * await server.close();
 */
import net from 'node:net';

export type FaultPhase = 'connect' | 'greeting' | 'ehlo' | 'auth' | 'mail' | 'rcpt' | 'data' | 'body' | 'dot';

/** Every phase in the order a session reaches them. */
export const FAULT_PHASES: readonly FaultPhase[] = [
  'connect',
  'greeting',
  'ehlo',
  'auth',
  'mail',
  'rcpt',
  'data',
  'body',
  'dot',
];

export type FaultReply = { reply: string };
export type FaultAction = 'drop' | 'stall' | FaultReply;

export interface Fault {
  phase: FaultPhase;
  action: FaultAction;
}

/** A fault that fires the first `times` times a session reaches `phase` (and matches the filters). */
export interface FaultRule extends Fault {
  /** How many times it fires; 1 by default, `Infinity` for every time. Sessions take them in the order they reach the phase. */
  times?: number;
  /** Only for the message with this Message-ID (with or without `<>`). Phases 'body' and 'dot' only: earlier the header is not known. */
  messageId?: string;
  /** Only for a transaction with this recipient (phases 'rcpt' to 'dot'); at 'rcpt' only this recipient is refused. */
  recipient?: string;
}

/**
 * Each new connection fails with probability `rate`, at a phase and with an
 * action drawn from a PRNG seeded with `seed`. With `per: 'message'` every
 * further message on a connection (each MAIL FROM after the first) gets its
 * own draw too, among the transaction phases, so pooled connections fail as
 * often per message as fresh ones.
 */
export interface RandomFaults {
  rate: number;
  seed: number;
  /** Draw once per connection (default), or also once per further message on it. */
  per?: 'connection' | 'message';
  /** Phases to draw from. Default: every phase (without 'auth' when the server has no auth). A 'connect' draw always drops. */
  phases?: readonly FaultPhase[];
  /** Actions to draw from. Default: drop, 421, 451. */
  actions?: readonly FaultAction[];
}

export interface FaultServerOptions {
  /** Planned faults, checked in order; the first that matches fires. */
  faults?: FaultRule | readonly FaultRule[];
  /** Seeded random faults, at most one per connection, on top of `faults`. */
  random?: RandomFaults;
  /** Advertise PIPELINING (nodemailer then sends MAIL, RCPT and DATA in one go). Default false. */
  pipelining?: boolean;
  /** Advertise `AUTH PLAIN LOGIN` and require it before MAIL. `true` accepts any credentials. */
  auth?: true | { user: string; pass: string };
  /** The SIZE limit advertised and enforced at MAIL FROM. Default 50 MB. */
  size?: number;
  /** Name in the banner and the EHLO reply. Default 'fault.example.com'. */
  hostname?: string;
  /** Keep a transcript of every line (`#2 C: MAIL FROM:<a@b>` / `#2 S: 250 ...`), body lines excepted. */
  transcript?: boolean;
}

/** What happened to one complete body (its final "." arrived). */
export type ReceiptOutcome = 'acknowledged' | 'refused' | 'unanswered';

export interface Receipt {
  /** Message-ID without `<>`, '' when the body had none. */
  messageId: string;
  connection: number;
  from: string;
  to: string[];
  /** The body as received, dot-unstuffed. */
  body: Buffer;
  /** acknowledged: a 2xx followed the dot; refused: another reply did; unanswered: the dot got no reply at all (drop or stall). */
  outcome: ReceiptOutcome;
  reply?: string;
}

export interface FiredFault extends Fault {
  connection: number;
  /** Set for faults at 'body' and 'dot'. */
  messageId?: string;
  /** For a fault at 'body': how many bytes had arrived after the DATA line when it fired (as received, dot-stuffed). */
  bodyBytes?: number;
}

export interface FaultServerStats {
  /** Connections accepted. */
  connections: number;
  /** Commands received, by verb (EHLO, MAIL, RCPT, DATA, RSET, AUTH, ...). */
  commands: Map<string, number>;
  /** Every fault that fired, in order. */
  faults: FiredFault[];
  /** Every complete body, in order. */
  receipts: Receipt[];
  /** Complete bodies per Message-ID (without `<>`). */
  received: Map<string, number>;
  /** 2xx replies after the final dot, per Message-ID. */
  acknowledged: Map<string, number>;
  /** The same two counts per recipient address. */
  recipients: Map<string, { received: number; acknowledged: number }>;
}

export interface FaultServer {
  host: '127.0.0.1';
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Present when `transcript: true`. */
  readonly transcript: string[] | undefined;
  stats: FaultServerStats;
  /** Counts for one Message-ID (with or without `<>`). */
  counts(messageId: string): { received: number; acknowledged: number };
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

/** `<abc@x>` and `abc@x` are the same Message-ID. */
export function normalizeMessageId(id: string): string {
  return id.replace(/[<>\s]/g, '');
}

/** mulberry32: a tiny seeded PRNG, good enough to pick faults reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function describeAction(action: FaultAction): string {
  return typeof action === 'string' ? action : action.reply;
}

const DEFAULT_RANDOM_ACTIONS: readonly FaultAction[] = [
  'drop',
  { reply: '421 4.3.2 Service shutting down' },
  { reply: '451 4.3.0 Try again later' },
];

/** The phases of a mail transaction, the ones a further message on an open connection can reach. */
const TRANSACTION_PHASES: readonly FaultPhase[] = ['mail', 'rcpt', 'data', 'body', 'dot'];

const BEFORE_HEADERS: readonly FaultPhase[] = ['connect', 'greeting', 'ehlo', 'auth', 'mail', 'rcpt', 'data'];
const BEFORE_RCPT: readonly FaultPhase[] = ['connect', 'greeting', 'ehlo', 'auth', 'mail'];

function validateRule(rule: FaultRule): void {
  if (!FAULT_PHASES.includes(rule.phase)) throw new TypeError(`unknown fault phase ${JSON.stringify(rule.phase)}`);
  const { action } = rule;
  if (typeof action === 'string' ? action !== 'drop' && action !== 'stall' : !/^\d{3}[ -]/.test(action.reply)) {
    throw new TypeError(`bad fault action ${JSON.stringify(action)}: 'drop', 'stall' or { reply: '451 ...' }`);
  }
  if (rule.phase === 'connect' && typeof action !== 'string') {
    throw new TypeError("phase 'connect' only drops or stalls; use phase 'greeting' to answer instead of the banner");
  }
  if (rule.messageId !== undefined && BEFORE_HEADERS.includes(rule.phase)) {
    throw new TypeError(`a messageId filter needs phase 'body' or 'dot' (the header is unknown at ${rule.phase})`);
  }
  if (rule.recipient !== undefined && BEFORE_RCPT.includes(rule.phase)) {
    throw new TypeError(`a recipient filter needs phase 'rcpt' or later (not ${rule.phase})`);
  }
}

/** The mail transaction in progress on a session. */
interface Transaction {
  from: string;
  to: string[];
  /** Set once a fault fired at 'rcpt' for this transaction: it answers every RCPT. */
  rcptFault?: Fault;
}

/** The body being received after a 354. */
interface IncomingBody {
  lines: Buffer[];
  /** Header block seen (the first empty line arrived). */
  headersDone: boolean;
  messageId: string;
}

/** What a rule's filters are matched against (and what is recorded with the fault). */
interface FaultContext {
  messageId?: string;
  to?: string[];
  bodyBytes?: number;
}

type Mode = 'command' | 'data' | 'auth-login-user' | 'auth-login-pass' | 'ignore';

interface PlannedRule {
  rule: FaultRule;
  remaining: number;
}

class Session {
  private mode: Mode = 'command';
  private pending: Buffer = Buffer.alloc(0);
  private greeted = false;
  /** Set when the banner was refused: only QUIT is served afterwards. */
  private refused = false;
  /** Set when a fault fired at 'ehlo': the HELO fallback gets the same reply. */
  private heloReply: string | undefined;
  private authenticated = false;
  private loginUser = '';
  private tx: Transaction | undefined;
  private body: IncomingBody | undefined;
  /** A random fault drawn for this connection (or message), until it fires. */
  private randomFault: Fault | undefined;
  /** MAIL FROM commands seen, for `random.per: 'message'`. */
  private transactions = 0;
  /** Bytes received on the connection, where the line being handled ends, and where the body began. */
  private bytesReceived = 0;
  private lineEnd = 0;
  private bodyStart = 0;

  constructor(
    readonly id: number,
    private readonly socket: net.Socket,
    private readonly server: FaultServerImpl,
  ) {
    this.randomFault = server.drawRandomFault();
  }

  start(): void {
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', () => {
      // ECONNRESET and friends: the client went away, nothing to do
    });
    if (this.applyFault(this.fault('connect'))) return;
    const atGreeting = this.fault('greeting')?.action;
    if (atGreeting === 'drop') {
      // half a banner, then gone
      this.server.log(this.id, 'S', '<half a banner, then drop>');
      this.mode = 'ignore';
      this.socket.end(`220 ${this.server.hostname}`);
      return;
    }
    if (atGreeting === 'stall') return this.stall();
    if (atGreeting) {
      this.reply(atGreeting.reply);
      if (!atGreeting.reply.startsWith('2')) this.refused = true;
      return;
    }
    this.reply(`220 ${this.server.hostname} ESMTP fault-server`);
  }

  // ---- faults -------------------------------------------------------------------------------

  /** The fault for this moment, if one fires; it is recorded in the stats. */
  private fault(phase: FaultPhase, ctx: FaultContext = {}): Fault | FaultRule | undefined {
    let fired: Fault | FaultRule | undefined;
    if (this.randomFault?.phase === phase) {
      fired = this.randomFault;
      this.randomFault = undefined;
    } else {
      fired = this.server.takeRule(phase, { to: this.tx?.to ?? [], ...ctx });
    }
    if (fired !== undefined) {
      const { messageId, bodyBytes } = ctx;
      this.server.stats.faults.push({
        connection: this.id,
        phase,
        action: fired.action,
        ...(messageId !== undefined ? { messageId } : {}),
        ...(bodyBytes !== undefined ? { bodyBytes } : {}),
      });
    }
    return fired;
  }

  /**
   * Applies a fault to a command. Returns true when the fault handled it (the
   * caller stops), false when there was none and the command runs normally.
   */
  private applyFault(fault: Fault | undefined): boolean {
    if (fault === undefined) return false;
    const { action } = fault;
    if (action === 'drop') this.drop();
    else if (action === 'stall') this.stall();
    else this.reply(action.reply);
    return true;
  }

  // ---- socket -------------------------------------------------------------------------------

  private reply(line: string): void {
    if (this.stopped || this.socket.destroyed) return;
    this.server.log(this.id, 'S', line);
    this.socket.write(`${line}\r\n`);
    if (/^421[ -]/.test(line)) this.closeGracefully();
  }

  /** Destroys the socket: the client sees the connection die with no reply. */
  private drop(): void {
    this.server.log(this.id, 'S', '<drop>');
    this.mode = 'ignore';
    this.pending = Buffer.alloc(0);
    this.socket.destroy();
  }

  /** Stops answering and reading meaningfully; the client must time out. */
  private stall(): void {
    this.server.log(this.id, 'S', '<stall>');
    this.mode = 'ignore';
    this.pending = Buffer.alloc(0);
  }

  /** Ends our side after the last reply and swallows whatever the client still sends, so no RST eats the reply. */
  private closeGracefully(): void {
    this.mode = 'ignore';
    this.pending = Buffer.alloc(0);
    this.socket.end();
  }

  private onData(chunk: Buffer): void {
    if (this.stopped) return;
    this.bytesReceived += chunk.length;
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const pendingStart = this.bytesReceived - this.pending.length;
    let start = 0;
    while (!this.stopped) {
      const nl = this.pending.indexOf(0x0a, start);
      if (nl < 0) break;
      const line = this.pending.subarray(start, nl + 1);
      start = nl + 1;
      this.lineEnd = pendingStart + start;
      if (this.mode === 'data') this.onBodyLine(line);
      else this.onCommandLine(line.toString('utf8').replace(/\r?\n$/, ''));
    }
    this.pending = this.stopped ? Buffer.alloc(0) : this.pending.subarray(start);
  }

  /** True once the session stopped answering (dropped, stalled or closing). */
  private get stopped(): boolean {
    return this.mode === 'ignore';
  }

  // ---- commands -----------------------------------------------------------------------------

  private onCommandLine(line: string): void {
    if (this.mode === 'auth-login-user' || this.mode === 'auth-login-pass') {
      this.server.log(this.id, 'C', '<secret>');
      return this.onLoginStep(line);
    }
    const verb = (line.match(/^\S+/)?.[0] ?? '').toUpperCase();
    const arg = line.slice(verb.length).trim();
    this.server.log(this.id, 'C', verb === 'AUTH' ? `AUTH ${arg.split(/\s+/)[0] ?? ''} <secret>` : line);
    this.server.stats.commands.set(verb, (this.server.stats.commands.get(verb) ?? 0) + 1);

    if (verb === 'QUIT') {
      this.reply('221 2.0.0 Bye');
      return this.closeGracefully();
    }
    if (this.refused) return this.reply('503 5.5.1 Bad sequence of commands');

    switch (verb) {
      case 'EHLO':
        return this.onHello(true, arg);
      case 'HELO':
        return this.onHello(false, arg);
      case 'AUTH':
        return this.onAuth(arg);
      case 'MAIL':
        return this.onMail(arg);
      case 'RCPT':
        return this.onRcpt(arg);
      case 'DATA':
        return this.onDataCommand();
      case 'RSET':
        this.tx = undefined;
        return this.reply('250 2.0.0 Reset');
      case 'NOOP':
        return this.reply('250 2.0.0 OK');
      default:
        return this.reply('500 5.5.2 Command not recognized');
    }
  }

  private onHello(extended: boolean, name: string): void {
    if (extended) {
      const fault = this.fault('ehlo');
      if (fault !== undefined && typeof fault.action !== 'string') this.heloReply = fault.action.reply;
      if (this.applyFault(fault)) return;
    } else if (this.heloReply !== undefined) {
      // the HELO fallback after a refused EHLO is refused the same way
      return this.reply(this.heloReply);
    }
    this.tx = undefined;
    this.greeted = true;
    const host = this.server.hostname;
    if (!extended) return this.reply(`250 ${host} Hello ${name}`);
    const lines = [
      `${host} Hello ${name}`,
      ...(this.server.options.pipelining ? ['PIPELINING'] : []),
      '8BITMIME',
      `SIZE ${this.server.size}`,
      'ENHANCEDSTATUSCODES',
      ...(this.server.options.auth ? ['AUTH PLAIN LOGIN'] : []),
    ];
    lines.forEach((text, i) => this.reply(`250${i === lines.length - 1 ? ' ' : '-'}${text}`));
  }

  private onAuth(arg: string): void {
    if (!this.server.options.auth) return this.reply('502 5.5.1 AUTH not supported');
    if (!this.greeted) return this.reply('503 5.5.1 Send EHLO first');
    if (this.authenticated) return this.reply('503 5.5.1 Already authenticated');
    if (this.applyFault(this.fault('auth'))) return;
    const [mechanism = '', initial] = arg.split(/\s+/);
    switch (mechanism.toUpperCase()) {
      case 'PLAIN': {
        if (initial === undefined) return this.reply('501 5.5.2 PLAIN needs an initial response here');
        const [, user = '', pass = ''] = Buffer.from(initial, 'base64').toString('utf8').split('\u0000');
        return this.finishAuth(user, pass);
      }
      case 'LOGIN':
        this.mode = 'auth-login-user';
        return this.reply(`334 ${Buffer.from('Username:').toString('base64')}`);
      default:
        return this.reply('504 5.5.4 Unrecognized authentication type');
    }
  }

  private onLoginStep(line: string): void {
    if (line === '*') {
      this.mode = 'command';
      return this.reply('501 5.0.0 Authentication cancelled');
    }
    const value = Buffer.from(line, 'base64').toString('utf8');
    if (this.mode === 'auth-login-user') {
      this.loginUser = value;
      this.mode = 'auth-login-pass';
      return this.reply(`334 ${Buffer.from('Password:').toString('base64')}`);
    }
    this.mode = 'command';
    this.finishAuth(this.loginUser, value);
  }

  private finishAuth(user: string, pass: string): void {
    const expected = this.server.options.auth;
    if (typeof expected === 'object' && (expected.user !== user || expected.pass !== pass)) {
      return this.reply('535 5.7.8 Authentication credentials invalid');
    }
    this.authenticated = true;
    this.reply('235 2.7.0 Authentication successful');
  }

  private onMail(arg: string): void {
    if (!this.greeted) return this.reply('503 5.5.1 Send EHLO first');
    if (this.server.options.auth && !this.authenticated) return this.reply('530 5.7.0 Authentication required');
    if (this.tx) return this.reply('503 5.5.1 Nested MAIL command');
    const match = /^FROM:\s*<([^>]*)>(.*)$/i.exec(arg);
    if (!match) return this.reply('501 5.5.4 Syntax: MAIL FROM:<address>');
    this.transactions += 1;
    if (this.transactions > 1 && this.randomFault === undefined) this.randomFault = this.server.drawRandomFault(true);
    if (this.applyFault(this.fault('mail'))) return;
    const size = Number(/\bSIZE=(\d+)/i.exec(match[2] ?? '')?.[1] ?? 0);
    if (size > this.server.size) return this.reply('552 5.3.4 Message size exceeds fixed limit');
    this.tx = { from: match[1] ?? '', to: [] };
    this.reply('250 2.1.0 Sender OK');
  }

  private onRcpt(arg: string): void {
    if (!this.tx) return this.reply('503 5.5.1 Need MAIL command');
    const match = /^TO:\s*<([^>]+)>/i.exec(arg);
    if (!match?.[1]) return this.reply('501 5.5.4 Syntax: RCPT TO:<address>');
    const recipient = match[1];
    let fault = this.tx.rcptFault;
    if (fault === undefined) {
      fault = this.fault('rcpt', { to: [recipient] });
      // without a recipient filter the fault answers every RCPT of this transaction
      if (fault !== undefined && !('recipient' in fault && fault.recipient !== undefined)) this.tx.rcptFault = fault;
    }
    if (this.applyFault(fault)) return;
    this.tx.to.push(recipient);
    this.reply('250 2.1.5 Recipient OK');
  }

  private onDataCommand(): void {
    if (!this.tx) return this.reply('503 5.5.1 Need MAIL command');
    if (!this.tx.to.length) return this.reply('503 5.5.1 No valid recipients');
    if (this.applyFault(this.fault('data'))) return;
    this.body = { lines: [], headersDone: false, messageId: '' };
    this.bodyStart = this.lineEnd;
    this.mode = 'data';
    this.reply('354 End data with <CR><LF>.<CR><LF>');
  }

  // ---- body ---------------------------------------------------------------------------------

  private onBodyLine(raw: Buffer): void {
    const body = this.body;
    const tx = this.tx;
    if (!body || !tx) return;
    // "." alone ends the data; a leading dot on any other line was stuffed by the client
    if (raw.length <= 3 && raw[0] === 0x2e && /^\.\r?\n$/.test(raw.toString('latin1'))) {
      return this.onDot(tx, body);
    }
    const line = raw[0] === 0x2e ? raw.subarray(1) : raw;
    body.lines.push(line);
    if (body.headersDone) return;
    if (line.length <= 2 && /^\r?\n$/.test(line.toString('latin1'))) {
      body.headersDone = true;
      body.messageId = parseMessageId(Buffer.concat(body.lines).toString('utf8'));
      const bodyBytes = this.bytesReceived - this.bodyStart;
      const fault = this.fault('body', { messageId: body.messageId, bodyBytes });
      this.applyFault(fault);
      // no resync is possible in the middle of a body: after a reply, hang up
      if (fault !== undefined && typeof fault.action !== 'string') this.closeGracefully();
    }
  }

  private onDot(tx: Transaction, body: IncomingBody): void {
    this.server.log(this.id, 'C', `<body ${body.lines.reduce((n, l) => n + l.length, 0)} bytes> .`);
    this.mode = 'command';
    this.tx = undefined;
    this.body = undefined;
    const content = Buffer.concat(body.lines);
    const messageId = body.headersDone ? body.messageId : parseMessageId(content.toString('utf8'));
    const fault = this.fault('dot', { messageId, to: tx.to });
    const action = fault?.action;
    const reply = action === undefined ? '250 2.0.0 Message accepted' : typeof action === 'string' ? undefined : action.reply;
    const outcome: ReceiptOutcome = reply === undefined ? 'unanswered' : reply.startsWith('2') ? 'acknowledged' : 'refused';
    this.server.recordReceipt({
      messageId,
      connection: this.id,
      from: tx.from,
      to: tx.to,
      body: content,
      outcome,
      ...(reply !== undefined ? { reply } : {}),
    });
    if (reply === undefined) return void this.applyFault(fault);
    this.reply(reply);
  }
}

function parseMessageId(text: string): string {
  const headerBlock = text.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const unfolded = headerBlock.replace(/\r?\n[ \t]+/g, ' ');
  const match = /^message-id:\s*(.*)$/im.exec(unfolded);
  return match?.[1] ? normalizeMessageId(match[1]) : '';
}

class FaultServerImpl {
  readonly hostname: string;
  readonly size: number;
  readonly stats: FaultServerStats = {
    connections: 0,
    commands: new Map(),
    faults: [],
    receipts: [],
    received: new Map(),
    acknowledged: new Map(),
    recipients: new Map(),
  };
  readonly transcript: string[] | undefined;
  private readonly rules: PlannedRule[];
  private readonly random: (() => number) | undefined;
  private readonly sockets = new Set<net.Socket>();
  readonly listener: net.Server;

  constructor(readonly options: FaultServerOptions) {
    this.hostname = options.hostname ?? 'fault.example.com';
    this.size = options.size ?? 50 * 1024 * 1024;
    this.transcript = options.transcript ? [] : undefined;
    const rules = options.faults === undefined ? [] : Array.isArray(options.faults) ? options.faults : [options.faults];
    for (const rule of rules as FaultRule[]) validateRule(rule);
    this.rules = (rules as FaultRule[]).map((rule) => ({ rule, remaining: rule.times ?? 1 }));
    if (options.random) {
      const { rate, seed } = options.random;
      if (!(rate >= 0 && rate <= 1)) throw new TypeError('random.rate must be between 0 and 1');
      this.random = seededRandom(seed);
      for (const action of options.random.actions ?? []) validateRule({ phase: 'dot', action });
    }
    this.listener = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      this.stats.connections += 1;
      new Session(this.stats.connections, socket, this).start();
    });
  }

  log(connection: number, who: 'C' | 'S', line: string): void {
    this.transcript?.push(`#${connection} ${who}: ${line}`);
  }

  /** The fault for a new connection under `random` (or a further message, with `per: 'message'`), or none. */
  drawRandomFault(furtherMessage = false): Fault | undefined {
    const random = this.random;
    const plan = this.options.random;
    if (!random || !plan || (furtherMessage && plan.per !== 'message')) return undefined;
    // always three draws per connection, so one connection's luck does not shift the next one's
    const [hit, p, a] = [random(), random(), random()];
    if (hit >= plan.rate) return undefined;
    const phases = (plan.phases ?? FAULT_PHASES.filter((phase) => phase !== 'auth' || this.options.auth)).filter(
      (phase) => !furtherMessage || TRANSACTION_PHASES.includes(phase),
    );
    const actions = plan.actions ?? DEFAULT_RANDOM_ACTIONS;
    const phase = phases[Math.floor(p * phases.length)];
    if (phase === undefined) return undefined;
    const action = phase === 'connect' ? 'drop' : (actions[Math.floor(a * actions.length)] ?? 'drop');
    return { phase, action };
  }

  /** Takes one firing of the first planned rule that matches. */
  takeRule(phase: FaultPhase, ctx: FaultContext): FaultRule | undefined {
    for (const planned of this.rules) {
      const { rule } = planned;
      if (rule.phase !== phase || planned.remaining <= 0) continue;
      if (rule.messageId !== undefined && normalizeMessageId(rule.messageId) !== (ctx.messageId ?? '')) continue;
      if (rule.recipient !== undefined && !(ctx.to ?? []).includes(rule.recipient)) continue;
      planned.remaining -= 1;
      return rule;
    }
    return undefined;
  }

  recordReceipt(receipt: Receipt): void {
    const { stats } = this;
    stats.receipts.push(receipt);
    const acked = receipt.outcome === 'acknowledged' ? 1 : 0;
    stats.received.set(receipt.messageId, (stats.received.get(receipt.messageId) ?? 0) + 1);
    stats.acknowledged.set(receipt.messageId, (stats.acknowledged.get(receipt.messageId) ?? 0) + acked);
    for (const address of receipt.to) {
      const counts = stats.recipients.get(address) ?? { received: 0, acknowledged: 0 };
      counts.received += 1;
      counts.acknowledged += acked;
      stats.recipients.set(address, counts);
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }
}

/** Starts a fault-injecting SMTP server on 127.0.0.1 and an ephemeral port. */
export async function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  const impl = new FaultServerImpl(options);
  await new Promise<void>((resolve, reject) => {
    impl.listener.once('error', reject);
    impl.listener.listen(0, '127.0.0.1', () => resolve());
  });
  const address = impl.listener.address() as net.AddressInfo;
  return {
    host: '127.0.0.1',
    port: address.port,
    get connections() {
      return impl.stats.connections;
    },
    get transcript() {
      return impl.transcript;
    },
    stats: impl.stats,
    counts(messageId: string) {
      const id = normalizeMessageId(messageId);
      return { received: impl.stats.received.get(id) ?? 0, acknowledged: impl.stats.acknowledged.get(id) ?? 0 };
    },
    close: () => impl.close(),
  };
}
