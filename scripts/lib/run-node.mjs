import { spawn } from 'node:child_process';

/**
 * Runs node with `args` asynchronously (the caller's SMTP server lives in
 * this event loop) and kills it after `timeoutMs`: a process still running
 * then did not exit by itself.
 */
export function runNode(args, { cwd, env = process.env, timeoutMs = 20_000 } = {}) {
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      done({ status, signal, stdout, stderr });
    });
  });
}
