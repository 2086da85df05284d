import { defineConfig } from 'vitest/config';

// The real-Postfix suite: needs root and Debian's postfix (test/mta/postfix/start.sh installs it).
export default defineConfig({
  test: {
    include: ['test/mta/**/*.test.ts'],
    globalSetup: ['test/mta/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
