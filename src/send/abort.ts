/** The error nodemailer raises for an aborted send, made here when the signal fired between attempts. */
export function abortErrorFrom(signal: AbortSignal): Error {
  const err = new Error('Message sending aborted', { cause: signal.reason }) as Error & { code: string };
  err.name = 'AbortError';
  err.code = 'EABORT';
  return err;
}
