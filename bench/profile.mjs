// node bench/profile.mjs [--unpooled] [--count N]
//
// Where resilient()'s extra client CPU goes: runs the throughput workload of
// `npm run bench` once for plain nodemailer and once for resilient(), each in
// a worker under --cpu-prof, and prints, per message, the CPU by owner
// (resilient()'s own code, nodemailer, Node, GC) and the functions whose self
// time differs most. The .cpuprofile files open in Chrome DevTools.
// Run `npm run build` first: it profiles dist/, as the bench measures it.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killChildren, startSink, startWorker } from './lib/processes.mjs';

const pool = !process.argv.includes('--unpooled');
const countAt = process.argv.indexOf('--count');
const count = countAt === -1 ? 20_000 : Number(process.argv[countAt + 1]);
const warmup = 1000;

const frameName = (frame) =>
  `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(dist|bench)\//, '$1/')}:${frame.lineNumber + 1}`;

function ownerOf(url) {
  if (/\/dist\/index\.(c?js)$|\/opossum\/|p-retry/.test(url)) return 'resilient() (dist/, opossum, p-retry)';
  if (/\/nodemailer\//.test(url)) return 'nodemailer';
  if (/\/bench\//.test(url)) return 'bench harness';
  return undefined;
}

/** Self time per function, and per owner (a sample belongs to the nearest caller that has one). */
function summarize(file, messages) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const byFunction = new Map();
  const byOwner = new Map();
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const leaf = nodes.get(id);
    const name = frameName(leaf.callFrame);
    if (name.startsWith('(idle)')) return;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    let owner = name.startsWith('(garbage collector)') ? 'garbage collector' : undefined;
    for (let cur = id; !owner && cur !== undefined; cur = parent.get(cur)) owner = ownerOf(nodes.get(cur).callFrame.url);
    owner ??= 'Node.js (streams, sockets, promises)';
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + us);
  });
  const perMessage = (map) => new Map([...map].map(([k, us]) => [k, us / messages]));
  return { byFunction: perMessage(byFunction), byOwner: perMessage(byOwner) };
}

async function profileVariant(variant, port, dir) {
  const worker = startWorker({ execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  const result = await worker.call('throughput', { variant, pool, port, count, warmup, concurrency: 20 });
  await worker.stop();
  const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile')));
  return { result, file, ...summarize(file, count + warmup) };
}

const fixed = (x, d = 1) => x.toFixed(d).padStart(8);

async function main() {
  const sink = await startSink('fast');
  const root = mkdtempSync(join(tmpdir(), 'nodemailer-resilient-profile-'));
  const runs = {};
  for (const variant of ['plain', 'resilient']) {
    const dir = join(root, variant);
    runs[variant] = await profileVariant(variant, sink.port, dir);
    console.log(`${variant}: ${Math.round(runs[variant].result.perSecond)} messages/s, ${Math.round(runs[variant].result.cpuUsPerMessage)} µs CPU per message (profiled), ${runs[variant].file}`);
  }
  await sink.stop();

  console.log(`\nCPU per message by owner, µs (${pool ? 'pooled' : 'unpooled'}, ${count} messages after ${warmup} of warm-up; profiling inflates all figures)`);
  const owners = new Set([...runs.plain.byOwner.keys(), ...runs.resilient.byOwner.keys()]);
  console.log(`${'owner'.padEnd(40)} ${'plain'.padStart(8)} ${'wrapped'.padStart(8)} ${'diff'.padStart(8)}`);
  for (const owner of [...owners].sort()) {
    const a = runs.plain.byOwner.get(owner) ?? 0;
    const b = runs.resilient.byOwner.get(owner) ?? 0;
    console.log(`${owner.padEnd(40)} ${fixed(a)} ${fixed(b)} ${fixed(b - a)}`);
  }

  console.log('\nFunctions whose self time per message grew most, µs (plain -> wrapped)');
  const names = new Set([...runs.plain.byFunction.keys(), ...runs.resilient.byFunction.keys()]);
  const rows = [...names]
    .map((name) => [name, runs.plain.byFunction.get(name) ?? 0, runs.resilient.byFunction.get(name) ?? 0])
    .sort((x, y) => y[2] - y[1] - (x[2] - x[1]))
    .slice(0, 25);
  for (const [name, a, b] of rows) console.log(`${fixed(b - a, 2)}  (${a.toFixed(2)} -> ${b.toFixed(2)})  ${name}`);
}

main().catch((err) => {
  killChildren();
  console.error(err);
  process.exit(1);
});
