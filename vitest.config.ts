import { defineConfig } from 'vitest/config';

// Three projects, so a developer can run the fast ones alone (`npm run test:unit`);
// `npm test` runs all three. A new test file lands in `integration` unless listed here.
const unit = ['stats', 'noise', 'smoothing', 'sequential', 'formats', 'openapi', 'layout'].map((n) => `test/${n}.test.ts`);
const long = ['demo', 'soundness', 'mnist-e2e', 'load', 'fuzz', 'fuzz-cli', 'tune'].map((n) => `test/${n}.test.ts`);

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      // Pure: statistics, noise, smoothing on linear models, formats. Seconds.
      { extends: true, test: { name: 'unit', include: unit } },
      // Stores, HTTP, fan-out, workerd, Deno, Chromium, Swift: servers this suite starts on 127.0.0.1.
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [...unit, ...long] } },
      // Minutes of inference: the main job, the soundness simulation, the MNIST end-to-end runs, fuzzing.
      { extends: true, test: { name: 'long', include: long } },
    ],
  },
});
