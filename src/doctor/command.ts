import { isMailError } from '../errors/guards.js';
import { VERSION } from '../version.js';
import { HELP, UsageError, parseDoctorArgs } from './args.js';
import { diagnose } from './diagnose.js';
import { readInput } from './input.js';
import { reportJson } from './render-json.js';
import { renderText } from './render-text.js';
import { createStyle, wantsColor } from './style.js';

/** Where the command writes, and what it reads: process.* in the CLI, fakes in tests. */
export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
}

export type ExitCode = 0 | 1 | 2 | 3;

/** A mistake in what was given (flags, variables, URL): one sentence and its fix, no stack, exit 2. */
export function inputError(err: unknown, json: boolean, io: Io): ExitCode | undefined {
  const known = err instanceof UsageError || (isMailError(err) && err.name === 'ConfigError');
  if (!known) return undefined;
  const { message, hint, name } = err as Error & { hint: string };
  if (json) io.stdout.write(`${JSON.stringify({ ok: false, exitCode: 2, error: { name, message, hint } }, null, 2)}\n`);
  else io.stderr.write(`nodemailer-resilient doctor: ${message}\n  ${hint}\n`);
  return 2;
}

/** `nodemailer-resilient doctor [options] [url]`. Resolves with the exit code; never throws. */
export async function doctorCommand(argv: readonly string[], io: Io): Promise<ExitCode> {
  // --json is honoured even when the rest of the line does not parse.
  const json = argv.includes('--json');
  try {
    const args = parseDoctorArgs(argv);
    if (args.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (args.version) {
      io.stdout.write(`${VERSION}\n`);
      return 0;
    }
    const color = !args.json && wantsColor(args.color, io.stdout, io.env);
    if (args.demo) {
      const { runDemo } = await import('./demo.js');
      return await runDemo({ json: args.json, style: createStyle(color), io });
    }
    const input = readInput(args, io.env);
    const report = await diagnose(input);
    // Every byte goes through the redactor: a password cannot leave, whatever a server echoes.
    const text = args.json ? `${JSON.stringify(reportJson(report, input), null, 2)}\n` : renderText(report, input, createStyle(color), VERSION);
    io.stdout.write(input.redact(text));
    return report.exitCode;
  } catch (err) {
    const code = inputError(err, json, io);
    if (code !== undefined) return code;
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`nodemailer-resilient doctor: internal error: ${message}\n  This is a bug in the doctor; please report it with the command line (without the password).\n`);
    if (io.env['NODEMAILER_RESILIENT_DEBUG']) io.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return 3;
  }
}
