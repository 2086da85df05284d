// The processes a run is made of: the sink, the client worker, and the
// one-shot children that must show they exit by themselves.
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const here = (file) => fileURLToPath(new URL(`../${file}`, import.meta.url));
const children = new Set();

/** Kills whatever this run started and is still alive (on error or Ctrl-C). */
export function killChildren() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A sink in its own process: 'fast', 'faulty', 'tls' or 'silent'. */
export async function startSink(mode) {
  // execArgv: [] so that flags given to the bench (--cpu-prof) stay with the client.
  const child = track(fork(here('sink.mjs'), [mode], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const [ready] = await once(child, 'message');
  const ask = async (type) => {
    child.send({ type });
    for (;;) {
      const [reply] = await once(child, 'message');
      if (reply.type === type) return reply;
    }
  };
  return {
    port: ready.port,
    mode,
    pid: child.pid,
    stats: async () => ask('stats'),
    reset: async () => ask('reset'),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.disconnect();
      await once(child, 'exit');
    },
  };
}

/** The client worker (bench/worker.mjs): runs one scenario per call, with --expose-gc. */
export function startWorker({ execArgv = [] } = {}) {
  const child = track(fork(here('worker.mjs'), [], { execArgv: ['--expose-gc', ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const pending = new Map();
  let sequence = 0;
  child.on('message', ({ id, result, error }) => {
    const call = pending.get(id);
    if (!call) return;
    pending.delete(id);
    if (error) call.reject(new Error(`${call.scenario} failed in the worker: ${error}`));
    else call.resolve(result);
  });
  child.once('exit', (code) => {
    for (const call of pending.values()) call.reject(new Error(`the bench worker exited (code ${code}) during ${call.scenario}`));
    pending.clear();
  });
  return {
    pid: child.pid,
    call(scenario, args) {
      const id = ++sequence;
      return new Promise((resolve, reject) => {
        pending.set(id, { scenario, resolve, reject });
        child.send({ id, scenario, args });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.disconnect();
      await once(child, 'exit');
    },
  };
}

/**
 * Runs `node --expose-gc bench/<file> ...args` with no IPC channel, so that
 * nothing but the scenario itself keeps it alive. The child prints one JSON
 * line; we then time how long it takes to exit on its own, and kill it if it
 * has not after `exitWithinMs`.
 */
export async function runAlone(file, args, { exitWithinMs = 10_000 } = {}) {
  const child = track(spawn(process.execPath, ['--expose-gc', here(file), ...args.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] }));
  let output = '';
  let resultAt;
  let result;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    output += chunk;
    if (result === undefined && output.includes('\n')) {
      resultAt = performance.now();
      result = JSON.parse(output.slice(0, output.indexOf('\n')));
    }
  });
  let killed = false;
  const exited = once(child, 'exit');
  const timer = setInterval(() => {
    if (resultAt !== undefined && performance.now() - resultAt > exitWithinMs) {
      killed = true;
      child.kill('SIGKILL');
    }
  }, 100);
  const [code] = await exited;
  clearInterval(timer);
  if (result === undefined) throw new Error(`bench/${file} exited (code ${code}) without a result`);
  return { ...result, exitedBySelf: !killed && code === 0, exitMs: killed ? undefined : performance.now() - resultAt };
}
