import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Type tests only: `vitest run --config test/types/vitest.config.ts` type-checks test/types/*.test-d.ts with tsc.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: [],
    typecheck: {
      enabled: true,
      only: true,
      include: ['test/types/**/*.test-d.ts'],
      tsconfig: 'test/types/tsconfig.json',
      ignoreSourceErrors: false,
    },
  },
});
