/**
 * vitest globalSetup for the real-Postfix suite (vitest.mta.config.ts):
 * starts the project's private Postfix (test/mta/postfix/start.sh, which
 * installs Debian's postfix when missing) and stops it afterwards.
 *
 * It never skips: if the MTA cannot be started the whole run fails with the
 * script's output. Needs root. `MTA_KEEP=1` leaves the instance running
 * after the run (for poking at it); `MTA_STATE` moves its state dir.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const scripts = join(here, 'postfix');

function run(script: string, timeoutMs: number): string {
  const res = spawnSync('bash', [join(scripts, script)], {
    encoding: 'utf8',
    env: process.env,
    timeout: timeoutMs,
  });
  const output = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim();
  if (res.error || res.status !== 0) {
    const why = res.error ? String(res.error) : `exit status ${res.status}${res.signal ? ` (signal ${res.signal})` : ''}`;
    throw new Error(`test/mta/postfix/${script} failed: ${why}\n--- output ---\n${output || '(none)'}`);
  }
  return output;
}

export default function setup(): () => void {
  if (process.getuid?.() !== 0) {
    throw new Error('npm run test:mta needs root: test/mta/postfix/start.sh installs and runs a private Postfix.');
  }
  const out = run('start.sh', 170_000);
  process.stdout.write(`${out}\n`);
  return () => {
    if (process.env['MTA_KEEP'] === '1') {
      process.stdout.write('MTA_KEEP=1: leaving the test MTA running (test/mta/postfix/stop.sh stops it)\n');
      return;
    }
    run('stop.sh', 30_000);
  };
}
