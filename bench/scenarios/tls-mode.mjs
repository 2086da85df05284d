// `secure: false` on an implicit-TLS port: plain nodemailer waits for a
// greeting that never comes; resilient() starts TLS because the port is 465.
//
// The implicit-TLS sink listens on an ephemeral port (binding 465 needs
// privileges), so both clients are told `port: 465` and reach the sink through
// nodemailer's own `getSocket` hook, which hands over a connected socket
// whatever the port says. Both get the identical hook and options.
import net from 'node:net';
import { createClient, MESSAGE } from '../lib/mail.mjs';

export async function tlsMode({ tlsPort, rounds, greetingTimeout }) {
  const getSocket = (_options, callback) => {
    const socket = net.connect(tlsPort, '127.0.0.1');
    socket.once('connect', () => callback(null, { connection: socket }));
    socket.once('error', callback);
  };
  const options = {
    host: '127.0.0.1',
    port: 465,
    secure: false,
    name: 'bench.example.com',
    greetingTimeout,
    // The sink uses smtp-server's built-in certificate.
    tls: { rejectUnauthorized: false },
    getSocket,
  };
  const results = { plain: [], resilient: [] };
  for (let r = 0; r < rounds; r++) {
    for (const variant of r % 2 ? ['resilient', 'plain'] : ['plain', 'resilient']) {
      const transporter = createClient(variant, options);
      const t0 = performance.now();
      try {
        const info = await transporter.sendMail(MESSAGE);
        results[variant].push({ ms: performance.now() - t0, delivered: info.accepted?.length === 1, outcome: info.response });
      } catch (err) {
        results[variant].push({ ms: performance.now() - t0, delivered: false, outcome: `${err.name} ${err.code ?? ''}: ${err.message}`.trim() });
      }
      transporter.close();
    }
  }
  return results;
}
