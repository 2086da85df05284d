import { defineConfig } from 'tsup';

export default defineConfig([{
  entry: { index: 'src/index.ts', bullmq: 'src/integrations/bullmq.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: false,
  target: 'node20',
  shims: true,
  // p-retry 7 and is-network-error are ESM-only: bundle them so require() works.
  noExternal: ['p-retry', 'is-network-error'],
  external: ['nodemailer', 'opossum'],
}, {
  // The doctor CLI (the package's bin): ESM only, no types.
  entry: { cli: 'src/cli.ts' },
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: false,
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
  noExternal: ['p-retry', 'is-network-error'],
  external: ['nodemailer', 'opossum'],
}]);
