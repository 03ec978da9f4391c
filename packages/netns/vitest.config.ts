import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Builds the native addon when it is missing or older than its C sources, so tests never run
    // against a stale binary.
    globalSetup: ['./test/build-addon.global.ts'],
    testTimeout: 20_000,
  },
});
