import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resilient } from '../../src/index.js';
import { startTestServer, type TestServer } from '../helpers/smtp-server.js';

/** Auth.js's provider-options merge (@auth/core lib/utils/merge.js): `for...in`, into the target. */
function authJsMerge(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> {
  for (const key in source) {
    const value = source[key];
    if (value !== null && typeof value === 'object') {
      if (target[key] === null || typeof target[key] !== 'object') target[key] = Array.isArray(value) ? [] : {};
      authJsMerge(target[key] as Record<string, unknown>, value as Record<string, unknown>);
    } else if (value !== undefined) target[key] = value;
  }
  return target;
}

const mail = { from: 'app@example.com', to: 'someone@example.net', subject: 'hi', text: 'hello' };

describe('a transport copied by a deep merge or a spread', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ tls: 'plain' });
  });
  afterAll(() => server.close());

  it('still sends through resilient() after Auth.js merges it over its default server (issue 8)', async () => {
    const transport = resilient({ host: '127.0.0.1', port: server.port, breaker: false, retry: false });
    // The Nodemailer provider's default `server`, which Auth.js keeps and merges the user's into.
    const copy = authJsMerge({ host: 'localhost', port: 25, auth: { user: '', pass: '' } }, transport as never);
    const info = await nodemailer.createTransport(copy as never).sendMail(mail);
    expect(info.accepted).toEqual(['someone@example.net']);
    expect(server.messages).toHaveLength(1);
  });

  it('adds no listeners to the copy when createTransport() is called on it for every sign-in', () => {
    const transport = resilient({ host: '127.0.0.1', port: server.port, breaker: false });
    const shared = { host: 'localhost', port: 25 };
    for (let i = 0; i < 20; i++) nodemailer.createTransport(authJsMerge(shared, transport as never) as never);
    expect(typeof (shared as { on?: unknown }).on).toBe('undefined');
  });

  it('still sends after an object spread', async () => {
    const before = server.messages.length;
    const copy = { ...resilient({ host: '127.0.0.1', port: server.port, breaker: false, retry: false }) };
    await nodemailer.createTransport(copy as never).sendMail(mail);
    expect(server.messages.length).toBe(before + 1);
  });
});
