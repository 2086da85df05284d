/**
 * Runs the App Router route handler the way Next.js does, without Next.js:
 * import the compiled module and call POST(new Request(...)) against an
 * in-process smtp-server. Exits non-zero on failure.
 */
import assert from 'node:assert/strict';
import { SMTPServer } from 'smtp-server';

const received = [];
const server = new SMTPServer({
  authOptional: false,
  allowInsecureAuth: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onAuth: (auth, _session, callback) =>
    auth.username === 'app' && auth.password === 'secret' ? callback(null, { user: 'app' }) : callback(new Error('Invalid login')),
  onRcptTo: (address, _session, callback) =>
    address.address === 'nobody@example.net' ? callback(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 })) : callback(),
  onData: (stream, _session, callback) => {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => {
      received.push(/^Message-ID:\s*(<[^>]+>)/im.exec(Buffer.concat(chunks).toString())?.[1]);
      callback();
    });
  },
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
Object.assign(process.env, {
  SMTP_HOST: '127.0.0.1',
  SMTP_PORT: String(server.server.address().port),
  SMTP_USER: 'app',
  SMTP_PASS: 'secret',
  MAIL_FROM: '"Example" <no-reply@example.com>',
});

const { POST, runtime } = await import('./build/app/api/send/route.js');
const post = (body) => POST(new Request('http://localhost/api/send', { method: 'POST', body: JSON.stringify(body) }));
// The route logs failures for the operator; keep them out of the test output.
const logged = [];
console.error = (line) => logged.push(line);

const steps = [
  ['runs on the Node.js runtime', async () => assert.equal(runtime, 'nodejs')],
  ['delivers and answers with the Message-ID', async () => {
    const response = await post({ to: 'someone@example.net' });
    assert.equal(response.status, 200);
    const { messageId } = await response.json();
    assert.deepEqual(received, [messageId]);
  }],
  ['answers 422 when the server refuses the recipient', async () => {
    const response = await post({ to: 'nobody@example.net' });
    assert.equal(response.status, 422);
    assert.deepEqual(await response.json(), { error: 'RecipientsRejectedError' });
    assert.match(logged.at(-1), /^mail to nobody@example.net failed: RecipientsRejectedError: /);
  }],
  ['answers 400 to a body without an address', async () => {
    assert.equal((await post({})).status, 400);
  }],
  ['answers 503 with Retry-After once the server is down', async () => {
    await new Promise((resolve) => server.close(resolve));
    const response = await post({ to: 'someone@example.net' });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '60');
    assert.deepEqual(await response.json(), { error: 'ConnectionError' });
    assert.equal(received.length, 1);
  }],
];

let passed = 0;
let failed = 0;
for (const [name, fn] of steps) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}\n${err.stack}`);
  }
}
server.close();
console.log(`next: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
