import { doctorCommand } from './doctor/command.js';
import { VERSION } from './version.js';

const USAGE = `Usage: nodemailer-resilient <command> [options]

Commands:
  doctor    check an SMTP configuration against the real server, step by step
            (nodemailer-resilient doctor --help for its options)

  -h, --help       show this help
  -v, --version    show the version
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'doctor') return doctorCommand(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  process.stderr.write(`${command === undefined ? 'nodemailer-resilient: no command given' : `nodemailer-resilient: unknown command ${JSON.stringify(command)}`}\n\n${USAGE}`);
  return 2;
}

// Exit once the output is flushed: a server that keeps a socket open must not keep the CLI alive.
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
});
