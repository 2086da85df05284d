import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resilient } from '../../src/index.js';
import { startTestServer, type TestServer } from '../helpers/smtp-server.js';

describe('smoke', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ tls: 'starttls' });
  });
  afterAll(() => server.close());

  it('delivers through a STARTTLS server', async () => {
    const transporter = nodemailer.createTransport(
      resilient({ host: '127.0.0.1', port: server.port, tls: { ca: [server.cert] } }),
    );
    const info = await transporter.sendMail({ from: 'App <app@example.com>', to: 'a@example.net', subject: 'hi', text: 'hello' });
    expect(info.accepted).toEqual(['a@example.net']);
    expect(server.messages[0]?.ehlo).toBe('example.com');
    expect(server.messages[0]?.secure).toBe(true);
  });
});
