// Where and with what the figures were measured.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

const root = new URL('../../', import.meta.url);
const version = (path) => JSON.parse(readFileSync(new URL(path, root), 'utf8')).version;

function git(args) {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export function describeMachine() {
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = commit && git(['status', '--porcelain', '--untracked-files=no', '--', 'src', 'package.json', 'package-lock.json']);
  return {
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown CPU',
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.versions.node,
    nodemailer: version('node_modules/nodemailer/package.json'),
    smtpServer: version('node_modules/smtp-server/package.json'),
    opossum: version('node_modules/opossum/package.json'),
    package: version('package.json'),
    commit: commit ? `${commit}${dirty ? ' + uncommitted changes to src/ or package files' : ''}` : 'unknown',
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
