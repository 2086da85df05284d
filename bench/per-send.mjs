// Per-send construction: `createTransport(resilient(sameOptions)).sendMail()`
// for every message, never closed, as request handlers often do.
// Run alone (no IPC) by run.mjs: prints one JSON line, then must exit by itself.
//
//   node --expose-gc bench/per-send.mjs <plain|resilient> <port> <count> <concurrency>
import { destinationCount } from '../dist/index.js';
import { createClient, MESSAGE, smtpOptions } from './lib/mail.mjs';

const [variant, port, count, concurrency] = process.argv.slice(2);
const total = Number(count);
const options = smtpOptions(Number(port));

async function run(n) {
  let started = 0;
  let failed = 0;
  const worker = async () => {
    while (started < n) {
      started++;
      await createClient(variant, options).sendMail(MESSAGE).catch(() => failed++);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Number(concurrency), n) }, worker));
  return failed;
}

const settle = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function heapAfterGc() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

await run(200);
await settle(200);
const heapBefore = heapAfterGc();
const t0 = performance.now();
const failed = await run(total);
const ms = performance.now() - t0;
// Sockets close a moment after the last reply (QUIT, then FIN).
await settle(200);
const heapAfter = heapAfterGc();
// Pipes and TTYs are the child's stdio; anything else would be left by the sends.
const handles = process.getActiveResourcesInfo().filter((type) => type !== 'TTYWrap' && type !== 'PipeWrap');
process.stdout.write(
  `${JSON.stringify({
    variant,
    count: total,
    failed,
    ms,
    heapBefore,
    heapAfter,
    heapGrowth: heapAfter - heapBefore,
    handles,
    destinations: variant === 'resilient' ? destinationCount() : undefined,
  })}\n`,
);
