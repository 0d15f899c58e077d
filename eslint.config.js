import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', 'test-artifacts/**', 'bench/results/**', 'clients/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly', AbortController: 'readonly', structuredClone: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly', setImmediate: 'readonly', document: 'readonly', window: 'readonly', EventSource: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // The dashboard's browser scripts (served as they are, classic scripts): browser globals only,
    // so a Node-only name (process, Buffer) in them is an error here, not in a user's console.
    files: ['src/server/dashboard/client/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        process: 'off', Buffer: 'off', setImmediate: 'off', console: 'off',
        window: 'readonly', document: 'readonly', navigator: 'readonly', location: 'readonly', fetch: 'readonly',
        EventSource: 'readonly', HTMLElement: 'readonly', HTMLInputElement: 'readonly', HTMLButtonElement: 'readonly',
        Node: 'readonly', Range: 'readonly', confirm: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly',
        setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', Intl: 'readonly',
      },
    },
    rules: { strict: ['error', 'function'], 'no-restricted-globals': ['error', 'process', 'Buffer'] },
  },
);
