// "doctor diagnosis time" for each classic failure: runs the built CLI's
// `doctor --demo --json`, which starts one server per classic failure and
// diagnoses each, and reads the doctor's own timings from its JSON.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median } from '../lib/stats.mjs';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

function runDemo() {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, 'doctor', '--demo', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        resolve({ wallMs: performance.now() - t0, code, output: JSON.parse(stdout) });
      } catch {
        reject(new Error(`doctor --demo --json exited ${code} without JSON: ${stderr.trim().slice(0, 300)}`));
      }
    });
  });
}

/** { available: false } when the CLI has no doctor; else one entry per demo scenario. */
export async function diagnosisTimes({ rounds }) {
  if (!existsSync(CLI)) return { available: false, reason: 'dist/cli.js is not built' };
  const runs = [];
  for (let i = 0; i < rounds; i++) runs.push(await runDemo());
  const first = runs[0].output;
  if (!Array.isArray(first.scenarios)) return { available: false, reason: 'doctor --demo --json printed no scenarios' };
  const scenarios = first.scenarios.map((scenario, i) => {
    const reports = runs.map((run) => run.output.scenarios[i]);
    const failure = scenario.report.failure;
    return {
      title: scenario.title,
      expected: scenario.expected,
      asExpected: reports.every((r) => r.asExpected),
      outcome: failure ? `${failure.error} at ${failure.step}` : `passes (exit ${scenario.report.exitCode})`,
      durationMs: median(reports.map((r) => r.report.durationMs)),
      // The steps that took the time, from the first run.
      slowSteps: scenario.report.steps.filter((step) => step.durationMs >= 50).map((step) => ({ id: step.id, ms: step.durationMs })),
    };
  });
  return { available: true, rounds, wallMs: median(runs.map((r) => r.wallMs)), scenarios };
}
