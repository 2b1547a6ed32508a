// Lint holds the layers (see AGENTS.md): only src/extension imports `vscode`; gateway, server and
// protocol are plain Node (protocol imports only zod); webviews are browser code (no vscode, no Node).
// Path zones keep each layer to what it may import, and no module takes part in an import cycle.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const nodeBuiltins = [
  'node:*',
  'fs',
  'path',
  'os',
  'http',
  'https',
  'net',
  'tls',
  'crypto',
  'child_process',
  'stream',
  'events',
  'util',
  'zlib',
  'dns',
  'url',
  'buffer',
  'worker_threads',
];
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
    // The layer map (AGENTS.md): each zone names a folder (target) and what it must never import (from).
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            { target: './src', from: './test', message: 'Product code never imports tests.' },
            { target: './src', from: './bench', message: 'Product code never imports benchmarks.' },
            { target: './src/protocol', from: './src', except: ['./protocol'], message: 'src/protocol imports only zod and its own files.' },
            {
              target: './src/gateway',
              from: './src/extension',
              message: 'The gateway is plain Node: it never imports the extension (give it a port instead).',
            },
            { target: './src/gateway', from: './src/webviews', message: 'The gateway never imports webview (browser) code.' },
            { target: './src/gateway', from: './src/server', message: 'The gateway talks to the workspace server over the protocol, never by importing it.' },
            { target: ['./src/gateway/*.ts', './src/gateway/!(cli)/**'], from: './src/gateway/cli', message: 'Only the CLI imports the CLI.' },
            { target: './src/server', from: './src/gateway', message: 'The workspace server never imports the gateway (share code through src/protocol).' },
            { target: './src/server', from: './src/extension', message: 'The workspace server never imports the extension.' },
            { target: './src/server', from: './src/webviews', message: 'The workspace server never imports webview code.' },
            {
              target: './src/webviews',
              from: './src/gateway',
              message: 'Webviews talk to the host through src/protocol messages, never by importing the gateway.',
            },
            { target: './src/webviews', from: './src/extension', message: 'Webviews never import the extension host.' },
            { target: './src/webviews', from: './src/server', message: 'Webviews never import the workspace server.' },
            { target: './src/extension', from: './src/server', message: 'The extension never imports the workspace server.' },
            {
              target: './src/extension',
              from: './src/webviews',
              message: 'The extension host never imports webview (browser) code; it loads the built bundle.',
            },
            { target: './src/extension', from: './src/gateway/cli', message: 'The extension never imports the CLI.' },
          ],
        },
      ],
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['src/gateway/**/*.ts', 'src/server/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noVscode] }] },
  },
  {
    // Only src/gateway/net opens sockets: everything else goes through its dispatcher / ws factory.
    files: ['src/gateway/**/*.ts'],
    ignores: ['src/gateway/net/**', 'src/gateway/localApi/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [noVscode],
          paths: ['node:http', 'node:https', 'node:net', 'node:tls', 'http', 'https', 'net', 'tls', 'ws', 'undici'].map((name) => ({
            name,
            allowTypeImports: true,
            message: 'Outbound connections go through src/gateway/net (one proxy decision, one TLS policy, one ledger).',
          })),
        },
      ],
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!zod$|\\.\\.?/)', message: 'src/protocol imports only zod (and its own files).' }] }],
    },
  },
  {
    files: ['src/webviews/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [noVscode, { group: nodeBuiltins, message: 'Webviews are browser code: no Node modules.' }] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'src/server/cli.ts', 'src/gateway/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-console': 'off' },
  },
);
