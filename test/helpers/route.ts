import net from 'node:net';

/**
 * nodemailer's `getSocket` hook, pointed at a test server's ephemeral port.
 * It lets a test say `port: 465` or `port: 587` (so the port rules apply)
 * while the real TCP connection goes to the server the test started.
 */
export function routeTo(port: number) {
  return (_options: unknown, callback: (err: Error | null, socketOptions?: { connection: net.Socket }) => void) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => callback(null, { connection: socket }));
    socket.once('error', (err) => callback(err));
  };
}
