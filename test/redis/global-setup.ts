/**
 * Starts a throwaway redis-server for the BullMQ suite: 127.0.0.1 only, on a
 * port the kernel picked, no persistence, stopped when the suite ends.
 * Debian's redis-server must be installed (.ci/run installs it); without it
 * the suite fails, it does not skip.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    redisPort: number;
  }
}

function redisServerPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'redis-server is not installed, and the BullMQ suite needs a real Redis. Install it with `apt-get install -y redis-server` (.ci/run does).',
    );
  }
}

/** A port the kernel hands out, freed again for redis-server to take. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function start(bin: string, port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const onExit = (code: number | null) => reject(new Error(`redis-server exited (${code}) on port ${port}:\n${output}`));
    child.once('exit', onExit);
    const ping = () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        if (data.toString().startsWith('+PONG')) {
          child.off('exit', onExit);
          resolve(child);
        } else retry();
      });
      socket.once('error', retry);
    };
    const retry = () => {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        reject(new Error(`redis-server did not answer PING on port ${port} within 10 s:\n${output}`));
      } else setTimeout(ping, 50);
    };
    ping();
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bin = redisServerPath();
  const dir = mkdtempSync(join(tmpdir(), 'nodemailer-resilient-redis-'));
  let child: ChildProcess | undefined;
  let lastError: unknown;
  // Another process may take the port between freePort() and redis-server's bind: try again.
  for (let i = 0; i < 3 && !child; i++) {
    const port = await freePort();
    try {
      child = await start(bin, port, dir);
      project.provide('redisPort', port);
    } catch (err) {
      lastError = err;
    }
  }
  if (!child) throw lastError;
  const running = child;
  return async () => {
    if (running.exitCode === null) {
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
