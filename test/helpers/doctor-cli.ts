/**
 * Runs `nodemailer-resilient doctor` as a subprocess, the way a user does.
 *
 * The CLI is bundled from src/ by tsup into a private folder for this run,
 * so the tests never run a stale dist/ and never race `npm run build`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'tsup';
import { expect } from 'vitest';

export interface DoctorCli {
  path: string;
  remove(): void;
}

export async function buildDoctorCli(): Promise<DoctorCli> {
  const root = resolve(import.meta.dirname, '../..');
  // Inside the project, so that the bundle finds nodemailer and opossum in its node_modules.
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const outDir = mkdtempSync(join(root, '.tmp', 'doctor-cli-'));
  await build({
    entry: { cli: join(root, 'src/cli.ts') },
    format: ['esm'],
    outDir,
    config: false,
    silent: true,
    target: 'node20',
    sourcemap: false,
    dts: false,
    external: ['nodemailer', 'opossum'],
    noExternal: ['p-retry', 'is-network-error'],
  });
  return { path: join(outDir, 'cli.js'), remove: () => rmSync(outDir, { recursive: true, force: true }) };
}

export interface DoctorRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed, when --json was given. */
  json: DoctorJson | undefined;
}

/** The parts of `doctor --json` the tests read. */
export interface DoctorJson {
  ok: boolean;
  exitCode: number;
  config: { smtp: Record<string, unknown>; notes: string[]; ehloName: string };
  steps: Array<{
    id: string;
    status: 'pass' | 'warn' | 'fail' | 'skip';
    summary: string;
    error?: { name: string; code: string; responseCode?: number; response?: string; retryable: boolean; hint: string };
    fixes: Array<{ line: string; why: string }>;
  }>;
  failure: { step: string; error: string | null; fixes: Array<{ line: string; why: string }> } | null;
  error?: { name: string; message: string; hint: string };
}

/**
 * Runs the doctor with exactly `env` (plus PATH), never the test process's
 * own SMTP_* variables.
 */
export function runDoctor(cli: DoctorCli, args: string[], env: Record<string, string> = {}): Promise<DoctorRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [cli.path, 'doctor', ...args],
      { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
        let json: DoctorJson | undefined;
        if (args.includes('--json')) {
          try {
            json = JSON.parse(stdout) as DoctorJson;
          } catch {
            json = undefined;
          }
        }
        done({ code: typeof code === 'number' ? code : null, stdout, stderr, json });
      },
    );
  });
}

/** Every form a password travels in: as typed, base64 (AUTH LOGIN), AUTH PLAIN's "\0user\0pass", URL-encoded. */
export function secretForms(user: string, pass: string): string[] {
  return [pass, Buffer.from(pass).toString('base64'), Buffer.from(`\u0000${user}\u0000${pass}`).toString('base64'), encodeURIComponent(pass)];
}

/**
 * Runs the same check as text and as --json, side by side: both must give
 * the same exit code, the JSON must parse, and no form of a secret may
 * appear anywhere in either output.
 */
export async function runDoctorBoth(cli: DoctorCli, args: string[], env: Record<string, string>, secrets: readonly string[]): Promise<{ text: DoctorRun; json: DoctorRun }> {
  const [text, json] = await Promise.all([runDoctor(cli, args, env), runDoctor(cli, [...args, '--json'], env)]);
  for (const output of [text.stdout, text.stderr, json.stdout, json.stderr]) {
    for (const secret of secrets) expect(output).not.toContain(secret);
  }
  expect(json.json, `--json printed: ${json.stdout}${json.stderr}`).toBeDefined();
  expect(json.code).toBe(text.code);
  return { text, json };
}

/** The step that failed with an error (the cause), and the fix lines of the verdict. */
export const causeOf = (run: DoctorRun) => run.json!.steps.find((s) => s.status === 'fail' && s.error);
export const fixLinesOf = (run: DoctorRun) => run.json!.failure?.fixes.map((f) => f.line) ?? [];
