import { generate } from 'selfsigned';

export interface TestCertificate {
  key: string;
  cert: string;
}

let cached: Promise<TestCertificate> | undefined;

/**
 * A self-signed certificate made by the test run itself, valid for
 * 127.0.0.1, localhost and mail.test.example; clients trust it with `tls.ca`.
 */
export function testCertificate(): Promise<TestCertificate> {
  cached ??= generate([{ name: 'commonName', value: 'mail.test.example' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    days: 2,
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'mail.test.example' },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  } as never).then((pems) => ({ key: pems.private, cert: pems.cert }));
  return cached;
}
