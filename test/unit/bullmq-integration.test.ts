import { describe, expect, it } from 'vitest';
import {
  CircuitOpenError,
  ConfigError,
  ConnectionError,
  DeliveryUnknownError,
  MailError,
  RecipientsRejectedError,
} from '../../src/index.js';
import {
  UNRECOVERABLE_ERROR_NAME,
  UnrecoverableMailError,
  backoffStrategy,
  createBackoffStrategy,
  isThrottled,
  throwForQueue,
  toQueueError,
} from '../../src/integrations/bullmq.js';

const rejected = (responseCode: number, response: string, retryable = responseCode < 500) =>
  new RecipientsRejectedError("Can't send mail - all recipients were rejected", {
    code: 'EENVELOPE',
    responseCode,
    response,
    retryable,
    hint: 'Check the address.',
  });
const dropped = (responseCode: number | undefined, response = '') =>
  new ConnectionError('Connection closed', { code: 'ECONNECTION', responseCode, response, retryable: true, hint: 'Retried.' });
const open = (retryAfterMs: number) =>
  new CircuitOpenError('open', { code: 'EBREAKER', retryable: false, hint: 'Wait.', retryAfterMs });

describe('toQueueError', () => {
  it('renames a permanent MailError UnrecoverableError, keeping the original as cause and its fields', () => {
    const original = rejected(550, '550 5.1.1 No such user');
    const queued = toQueueError(original) as UnrecoverableMailError;
    expect(queued).toBeInstanceOf(UnrecoverableMailError);
    expect(queued.name).toBe(UNRECOVERABLE_ERROR_NAME);
    expect(queued.name).toBe('UnrecoverableError');
    expect(queued.message).toBe("RecipientsRejectedError: Can't send mail - all recipients were rejected");
    expect(queued.cause).toBe(original);
    expect(queued).toMatchObject({ errorClass: 'RecipientsRejectedError', code: 'EENVELOPE', responseCode: 550, retryable: false, hint: 'Check the address.' });
    // The MailError itself is left as it was: its guards still narrow on its name.
    expect(original.name).toBe('RecipientsRejectedError');
  });

  it.each([
    ['a retryable MailError', rejected(451, '451 4.7.1 Greylisted')],
    ['a CircuitOpenError, which a later attempt can pass', open(1000)],
    ['an error that is not ours', new TypeError('boom')],
    ['a value that is not an error', 'oops'],
  ])('returns %s as it is', (_label, error) => {
    expect(toQueueError(error)).toBe(error);
  });

  it.each([
    ['ConfigError', new ConfigError('Unknown option `prot`', 'Use `port`.')],
    ['DeliveryUnknownError', new DeliveryUnknownError('No reply after the dot', { code: 'ETIMEDOUT', retryable: false, hint: 'It may have been delivered.' })],
    ['MailError', new MailError('other', { code: 'EX', retryable: false, hint: '' })],
  ])('makes a permanent %s unrecoverable', (name, error) => {
    expect(toQueueError(error)).toMatchObject({ name: 'UnrecoverableError', errorClass: name });
  });

  it('throwForQueue throws what toQueueError returns', () => {
    expect(() => throwForQueue(rejected(550, '550 no'))).toThrow(expect.objectContaining({ name: 'UnrecoverableError' }));
    const transient = rejected(451, '451 later');
    expect(() => throwForQueue(transient)).toThrow(transient);
  });
});

describe('isThrottled', () => {
  it.each([
    [dropped(421, '421 4.7.0 Try again later, closing connection'), true],
    [rejected(451, '451 4.7.1 Rate limit exceeded for this sender'), true],
    [rejected(450, '450 4.2.1 Too many messages, slow down'), true],
    [rejected(452, '452 4.5.3 Too many recipients'), true],
    [rejected(451, '451 4.7.1 Greylisted, please try again later'), false],
    [dropped(undefined), false],
    [rejected(550, '550 5.7.1 Rate limit exceeded, account suspended', false), false],
  ])('%s -> %s', (error, expected) => {
    expect(isThrottled(error)).toBe(expected);
  });
});

describe('createBackoffStrategy', () => {
  const strategy = createBackoffStrategy({ delay: 1000, throttledDelay: 60_000, maxDelay: 300_000, jitter: 0 });

  it.each([
    ['an ordinary deferral, first retry', 1, rejected(451, '451 Greylisted'), 1000],
    ['an ordinary deferral, third retry', 3, rejected(451, '451 Greylisted'), 4000],
    ['a dropped connection', 2, dropped(undefined), 2000],
    ['throttling, first retry', 1, dropped(421, '421 Too many connections'), 60_000],
    ['throttling, capped by maxDelay', 4, dropped(421, '421 Too many connections'), 300_000],
    ['an open breaker with the probe 5 s away', 1, open(5000), 5000],
    ['an open breaker whose probe is due', 2, open(0), 2000],
    ['a permanent MailError: no retry', 1, rejected(550, '550 No such user'), -1],
    ['an error that is not ours', 2, new Error('redis hiccup'), 2000],
    ['no error at all', 1, undefined, 1000],
  ])('%s', (_label, attemptsMade, error, expected) => {
    expect(strategy(attemptsMade, 'custom', error)).toBe(expected);
  });

  it('shortens each delay by at most the jitter fraction', () => {
    const jittery = createBackoffStrategy({ delay: 1000, jitter: 0.5 });
    for (let i = 0; i < 200; i++) {
      const delay = jittery(1, 'custom', rejected(451, '451 later'));
      expect(delay).toBeGreaterThanOrEqual(500);
      expect(delay).toBeLessThanOrEqual(1000);
    }
  });

  it('has defaults of 30 s, and 5 minutes after throttling', () => {
    expect(backoffStrategy(1, 'custom', rejected(451, '451 later'))).toBeGreaterThanOrEqual(24_000);
    expect(backoffStrategy(1, 'custom', rejected(451, '451 later'))).toBeLessThanOrEqual(30_000);
    expect(backoffStrategy(1, 'custom', dropped(421, '421 slow down'))).toBeGreaterThanOrEqual(240_000);
  });

  it('takes an option set to undefined as its default', () => {
    const strategy = createBackoffStrategy({ delay: undefined, jitter: 0 });
    expect(strategy(1, 'custom', rejected(451, '451 later'))).toBe(30_000);
  });

  it.each([
    [{ delay: -1 }, 'Expected `delay` to be a non-negative number, got -1'],
    [{ maxDelay: Number.NaN }, 'Expected `maxDelay` to be a non-negative number, got NaN'],
    [{ jitter: 2 }, 'Expected `jitter` to be a number from 0 to 1, got 2'],
  ])('rejects %o naming the option', (options, message) => {
    expect(() => createBackoffStrategy(options)).toThrow(new RangeError(message));
  });
});
