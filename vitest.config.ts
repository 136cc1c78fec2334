import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ once: the worker sampler and the child-process tests run the built files.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    // The location guess reads the time zone: every test starts from UTC, where nothing is guessed.
    env: { TZ: 'UTC' },
    hookTimeout: 60_000,
  },
})
