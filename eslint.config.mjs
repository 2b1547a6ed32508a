// Lint holds the layers (see AGENTS.md): only src/extension imports `vscode`; gateway, cloud and
// protocol are plain Node (protocol imports only zod); webviews are browser code (no vscode, no Node).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'http', 'https', 'net', 'tls', 'crypto', 'child_process', 'stream', 'events', 'util', 'zlib', 'dns', 'url', 'buffer', 'worker_threads'];
const noVscode = { group: ['vscode'], message: 'Only src/extension may import vscode.' };

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'docs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      'import/no-default-export': 'off',
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' }],
    },
  },
  {
    files: ['src/gateway/**/*.ts', 'src/cloud/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noVscode] }] },
  },
  {
    // Only src/gateway/net opens sockets: everything else goes through its dispatcher / ws factory.
    files: ['src/gateway/**/*.ts'],
    ignores: ['src/gateway/net/**', 'src/gateway/localApi/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [noVscode],
        paths: ['node:http', 'node:https', 'node:net', 'node:tls', 'http', 'https', 'net', 'tls', 'ws', 'undici'].map((name) => ({
          name, allowTypeImports: true, message: 'Outbound connections go through src/gateway/net (one proxy decision, one TLS policy, one ledger).',
        })),
      }],
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!zod$|\\.\\.?/)', message: 'src/protocol imports only zod (and its own files).' }] }] },
  },
  {
    files: ['src/webviews/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [noVscode, { group: nodeBuiltins, message: 'Webviews are browser code: no Node modules.' }] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'src/cloud/cli.ts', 'src/gateway/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-console': 'off' },
  },
);
