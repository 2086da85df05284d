import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The BullMQ suite: a real redis-server (Debian's, installed by .ci/run) that global-setup.ts starts and stops.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/redis/**/*.test.ts'],
    globalSetup: ['test/redis/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
