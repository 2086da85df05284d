/**
 * Boots the Nest app against an in-process smtp-server and checks, in order:
 * the start-up verify() says "ready"; a mail is delivered; a refused
 * recipient comes back as a typed error; the health check is up; once the
 * server is down the health check is down; and an app that starts while the
 * server is down logs a verify error, not "ready". Exits non-zero on failure.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SMTPServer } from 'smtp-server';
import { AppModule } from './app.module';
import { MailHealth } from './mail.health';
import { WelcomeMail } from './welcome.mail';

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown) {
    this.lines.push(`LOG ${String(message)}`);
  }
  error(message: unknown) {
    this.lines.push(`ERROR ${String(message)}`);
  }
  warn(message: unknown) {
    this.lines.push(`WARN ${String(message)}`);
  }
  /** Resolves with the first line that matches, or fails after 10 s. */
  async waitFor(pattern: RegExp): Promise<string> {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
      const line = this.lines.find((l) => pattern.test(l));
      if (line) return line;
    }
    throw new Error(`no log line matched ${pattern}:\n${this.lines.join('\n')}`);
  }
}

async function startSmtp() {
  const received: string[] = [];
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (auth, _session, callback) =>
      auth.username === 'app' && auth.password === 'secret' ? callback(null, { user: 'app' }) : callback(new Error('Invalid login')),
    onRcptTo: (address, _session, callback) =>
      address.address === 'nobody@example.net' ? callback(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 })) : callback(),
    onData: (stream, session, callback) => {
      stream.resume();
      stream.on('end', () => {
        received.push(...session.envelope.rcptTo.map((r) => r.address));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function boot(logger: CapturingLogger): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger });
  await app.init();
  return app;
}

const steps: Array<[string, () => Promise<void>]> = [];
const step = (name: string, fn: () => Promise<void>) => steps.push([name, fn]);

async function main() {
  const smtp = await startSmtp();
  Object.assign(process.env, { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_USER: 'app', SMTP_PASS: 'secret' });
  const logger = new CapturingLogger();
  let app: INestApplicationContext | undefined;
  let lateApp: INestApplicationContext | undefined;

  step('verify() at start-up logs "ready" while the server is up', async () => {
    app = await boot(logger);
    const line = await logger.waitFor(/Transporter is ready|Error occurred while verifying/);
    assert.match(line, /Transporter is ready/);
  });
  step('MailerService delivers through resilient()', async () => {
    const result = await app!.get(WelcomeMail).send('new-user@example.net');
    assert.equal(result.sent, true);
    assert.deepEqual(smtp.received, ['new-user@example.net']);
  });
  step('a refused recipient comes back as a typed, non-retryable error', async () => {
    const result = await app!.get(WelcomeMail).send('nobody@example.net');
    assert.deepEqual({ sent: result.sent, error: 'error' in result ? result.error : undefined }, { sent: false, error: 'RecipientsRejectedError' });
  });
  step('the health check is up while the server is up', async () => {
    const health = await app!.get(MailHealth).check();
    assert.equal(health.status, 'ok');
    assert.equal(health.details['mail']?.status, 'up');
  });
  step('the health check is down once the server is down', async () => {
    await smtp.close();
    const failure = await app!.get(MailHealth).check().then(
      () => assert.fail('the health check said ok with the SMTP server down'),
      (err: { getResponse?: () => unknown }) => err.getResponse?.(),
    );
    assert.deepEqual(failure, { status: 'error', info: {}, error: { mail: { status: 'down', transporters: 'down' } }, details: { mail: { status: 'down', transporters: 'down' } } });
  });
  step('an app started while the server is down logs a verify error, not "ready"', async () => {
    const lateLogger = new CapturingLogger();
    lateApp = await boot(lateLogger);
    const line = await lateLogger.waitFor(/Transporter is ready|Error occurred while verifying/);
    assert.match(line, /^ERROR Error occurred while verifying the transporter: /);
    assert.ok(!lateLogger.lines.some((l) => /is ready/.test(l)));
  });

  let passed = 0;
  let failed = 0;
  try {
    for (const [name, fn] of steps) {
      try {
        await fn();
        passed++;
        console.log(`ok   ${name}`);
      } catch (err) {
        failed++;
        console.log(`FAIL ${name}\n${err instanceof Error ? err.stack : String(err)}`);
        break;
      }
    }
  } finally {
    await app?.close();
    await lateApp?.close();
    await smtp.close().catch(() => undefined);
  }
  console.log(`nest: ${passed} passed, ${failed} failed`);
  process.exitCode = failed || passed !== steps.length ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
