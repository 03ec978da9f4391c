import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/build/**', '**/node_modules/**', '**/src/gen/**', '.nx/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      'no-throw-literal': 'error',
    },
  },
  {
    // Plain-JS scripts (build, bench, CI helpers) run on Node: its globals, and the same unused-var rule.
    files: ['**/*.mjs'],
    languageOptions: {
      globals: Object.fromEntries(
        ['process', 'Buffer', 'console', 'URL', 'URLSearchParams', 'AbortController', 'AbortSignal', 'fetch', 'performance',
          'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'queueMicrotask',
          'TextEncoder', 'TextDecoder', 'structuredClone'].map((g) => [g, 'readonly']),
      ),
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Older scripts declare their globals in a `/* global */` comment; that is not a redeclaration.
      'no-redeclare': ['error', { builtinGlobals: false }],
    },
  },
  {
    // Tests and CLIs may talk to the terminal.
    files: ['**/*.test.ts', '**/test/**/*.ts', 'packages/meshctl/**/*.ts', 'e2e/**/*.ts', 'tools/**'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
