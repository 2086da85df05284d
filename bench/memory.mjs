// Heap per idle transport, and what 1,000+ distinct destinations cost.
// Run alone (no IPC) by run.mjs: prints one JSON line, then must exit by itself.
// No connection is made: transports are built and never used.
//
//   node --expose-gc bench/memory.mjs <transports> <extraDestinations>
import { destinationCount, MAX_DESTINATIONS, resetDestinations } from '../dist/index.js';
import { createClient, smtpOptions } from './lib/mail.mjs';

const [transportsArg, extraArg] = process.argv.slice(2);
const TRANSPORTS = Number(transportsArg);
const EXTRA = Number(extraArg);
// A port with no TLS rule attached (not 25, 465, 587 or 2525), nothing listening.
const PORT = 10_025;

// A WeakRef keeps its target alive until the current job ends (and the
// registry holds its subscribers by WeakRef): let the job end before GC.
const tick = () => new Promise((resolve) => setImmediate(resolve));
async function heapAfterGc() {
  await tick();
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

async function idlePerTransport(variant) {
  const options = smtpOptions(PORT, { pool: true });
  // Warm: the first transport loads and compiles what all the others share.
  createClient(variant, options).close();
  const before = await heapAfterGc();
  const held = [];
  for (let i = 0; i < TRANSPORTS; i++) held.push(createClient(variant, options));
  const after = await heapAfterGc();
  for (const transporter of held) transporter.close();
  return (after - before) / held.length;
}

const idle = { plain: await idlePerTransport('plain'), resilient: await idlePerTransport('resilient') };

// Distinct destinations: one transport per port, dropped unclosed (the
// careless case); the process-wide registry is all that remembers them.
resetDestinations();
const emptyRegistry = await heapAfterGc();
for (let i = 0; i < MAX_DESTINATIONS; i++) createClient('resilient', smtpOptions(20_000 + i));
const fullRegistry = await heapAfterGc();
const afterFirst = destinationCount();
for (let i = 0; i < EXTRA; i++) createClient('resilient', smtpOptions(20_000 + MAX_DESTINATIONS + i));
const afterMore = await heapAfterGc();
const afterExtra = destinationCount();

process.stdout.write(
  `${JSON.stringify({
    transports: TRANSPORTS,
    idle,
    maxDestinations: MAX_DESTINATIONS,
    registry: {
      destinations: afterFirst,
      heap: fullRegistry - emptyRegistry,
      perDestination: (fullRegistry - emptyRegistry) / afterFirst,
      distinctTotal: MAX_DESTINATIONS + EXTRA,
      destinationsAfter: afterExtra,
      heapAfter: afterMore - emptyRegistry,
    },
    handles: (await tick(), process.getActiveResourcesInfo()).filter((type) => type !== 'TTYWrap' && type !== 'PipeWrap'),
  })}\n`,
);
