import { defineConfig } from 'vitest/config';

// NODEMAILER_PATH runs the whole suite against another nodemailer release
// (scripts/test-nodemailer.mjs installs 6.9.x there): src/ and tests alike.
const nodemailerPath = process.env['NODEMAILER_PATH'];

export default defineConfig({
  resolve: nodemailerPath ? { alias: [{ find: /^nodemailer(?=$|\/)/, replacement: nodemailerPath }] } : {},
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
