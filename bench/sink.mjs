// The benchmark's SMTP sink, run in its own process (bench/run.mjs forks it)
// so that the client being measured has its core to itself.
//
//   node bench/sink.mjs fast     accepts everything, discards the body
//   node bench/sink.mjs faulty   as fast, but 20% of transactions hit a transient fault
//   node bench/sink.mjs tls      as fast, implicit TLS from the first byte (465-style)
//   node bench/sink.mjs silent   accepts TCP connections and never writes a byte
//
// It reports { port } once listening, answers { type: 'stats' } with its
// counters and { type: 'reset' } by zeroing them, and exits on disconnect.
import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

// smtp-server holds every new connection for a fixed 100 ms before its
// greeting, to catch clients that talk too soon. That delay would cap an
// unpooled client at 20 / 0.1 s = 200 messages/s and hide the client's own
// cost, so this sink greets as soon as the connection is set up.
SMTPConnection.prototype.init = function init() {
  this._setListeners(() => this.connectionReady());
};

const mode = process.argv[2] ?? 'fast';
const FAULT_RATE = 0.2;

// Reproducible faults: the same run sees the same sequence.
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(7);

// Every fault here is one a retry can fix, and none of them comes after the
// final dot without a reply: a message is either refused or not sent at all.
const FAULTS = ['421 at MAIL FROM', '451 at RCPT TO', 'drop at RCPT TO', '451 after DATA'];

const stats = { connections: 0, accepted: 0, faults: 0, byFault: Object.fromEntries(FAULTS.map((f) => [f, 0])) };
const planned = new Map(); // session id -> fault for the current transaction

function reply(code, message) {
  return Object.assign(new Error(message), { responseCode: code });
}

function startSmtp() {
  const server = new SMTPServer({
    secure: mode === 'tls', // smtp-server's built-in certificate: the client sets rejectUnauthorized: false
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    maxClients: 10_000,
    closeTimeout: 1000,
    onConnect(_session, callback) {
      stats.connections++;
      callback();
    },
    onMailFrom(_address, session, callback) {
      planned.delete(session.id);
      if (mode === 'faulty' && random() < FAULT_RATE) {
        const fault = FAULTS[Math.floor(random() * FAULTS.length)];
        stats.faults++;
        stats.byFault[fault]++;
        if (fault === '421 at MAIL FROM') return callback(reply(421, '4.3.2 Service shutting down, try again later'));
        planned.set(session.id, fault);
      }
      callback();
    },
    onRcptTo(_address, session, callback) {
      const fault = planned.get(session.id);
      if (fault === '451 at RCPT TO') {
        planned.delete(session.id);
        return callback(reply(451, '4.3.0 Temporary local problem, try again later'));
      }
      if (fault === 'drop at RCPT TO') {
        planned.delete(session.id);
        for (const connection of server.connections) {
          if (connection.id === session.id) connection._socket.destroy();
        }
        return undefined;
      }
      callback();
    },
    onData(stream, session, callback) {
      stream.on('end', () => {
        if (planned.get(session.id) === '451 after DATA') {
          planned.delete(session.id);
          return callback(reply(451, '4.3.0 Temporary failure, try again later'));
        }
        stats.accepted++;
        callback();
      });
      stream.resume();
    },
    onClose(session) {
      planned.delete(session.id);
    },
  });
  server.on('error', () => undefined);
  return { listen: (cb) => server.listen(0, '127.0.0.1', () => cb(server.server.address().port)) };
}

function startSilent() {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    stats.connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume(); // read and ignore whatever the client writes; never answer
  });
  return { listen: (cb) => server.listen(0, '127.0.0.1', () => cb(server.address().port)) };
}

const listener = mode === 'silent' ? startSilent() : startSmtp();
listener.listen((port) => process.send({ type: 'ready', mode, port }));

process.on('message', (message) => {
  if (message?.type === 'stats') process.send({ type: 'stats', stats, cpu: process.cpuUsage() });
  if (message?.type === 'reset') {
    stats.connections = 0;
    stats.accepted = 0;
    stats.faults = 0;
    for (const f of FAULTS) stats.byFault[f] = 0;
    process.send({ type: 'reset' });
  }
});
process.on('disconnect', () => process.exit(0));
