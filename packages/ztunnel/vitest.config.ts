import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // The netns tests share kernel state (namespace names, ports inside pods); run files one at a time.
    fileParallelism: false,
  },
});
