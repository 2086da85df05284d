import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  shims: true,
  // p-retry 7 and is-network-error are ESM-only: bundle them so require() works.
  noExternal: ['p-retry', 'is-network-error'],
  external: ['nodemailer', 'opossum'],
});
