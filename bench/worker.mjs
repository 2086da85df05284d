// The client side of the benchmark, in its own process (forked by run.mjs
// with --expose-gc). One scenario per request; the sinks are elsewhere.
import { failFast } from './scenarios/fail-fast.mjs';
import { recovery } from './scenarios/recovery.mjs';
import { throughput, throughputRound } from './scenarios/throughput.mjs';
import { tlsMode } from './scenarios/tls-mode.mjs';

const scenarios = { throughput, throughputRound, failFast, tlsMode, recovery };

process.on('message', async ({ id, scenario, args }) => {
  try {
    const result = await scenarios[scenario](args);
    process.send({ id, result });
  } catch (err) {
    process.send({ id, error: err?.stack ?? String(err) });
  }
});
process.on('disconnect', () => process.exit(0));
