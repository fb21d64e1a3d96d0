// ESLint flat config: typescript-eslint's recommended rules, plus the architecture's import
// directions per folder and the one door for WebSockets.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

/** One `no-restricted-imports` option: the imports a folder may not use, with why. */
function restricted(message, groups) {
  return { patterns: [{ group: groups, message }] };
}
const vscode = 'vscode';
const ws = 'ws';
/** Node's modules, with and without the `node:` prefix. */
const NODE = ['node:*', ...builtinModules.filter((name) => !name.startsWith('_'))];
/** Our own top-level folders, reached by any relative path (`../../editor/x`, `../cli`). */
function ours(...folders) {
  return folders.flatMap((folder) => [`**/${folder}`, `**/${folder}/**`]);
}

export default tseslint.config(
  { ignores: ['dist/', 'out/', 'node_modules/', '.vscode-test/', 'test-results/', 'bench-results/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  // ---- Import directions (CONTRIBUTING.md, "Layout"): shared <- core <- cli, editor; shared <- webview. ----
  // Each folder names what it may not import; `npm test` also fails on any runtime import cycle
  // (dependency-cruiser, .dependency-cruiser.cjs).
  {
    files: ['src/shared/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', restricted('src/shared is plain TypeScript for every side: no Node, no vscode, nothing of ours but shared/.', [vscode, ...NODE, ws, ...ours('core', 'cli', 'editor', 'webview')])] },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', restricted('src/core is plain Node: it imports shared/ only, never vscode, the CLI, the editor or the UIs.', [vscode, ...ours('cli', 'editor', 'webview')])] },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', restricted('The CLI is a front door to core: no vscode, no editor, no UI code.', [vscode, ...ours('editor', 'webview')])] },
  },
  {
    files: ['src/editor/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', restricted('The editor is a front door to core: no CLI and no UI code (what both sides need lives in shared/).', ours('cli', 'webview'))] },
  },
  {
    // The UIs run in a browser or a webview: neither vscode nor Node is there.
    files: ['src/webview/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', restricted('The UIs run in a browser: they import shared/ only (no Node, no vscode, no core); talk to the host through host.ts.', [vscode, ...NODE, ws, ...ours('core', 'cli', 'editor')])] },
  },
  {
    // Every WebSocket the product accepts or opens goes through ws/accept.ts, which handles its errors.
    files: ['src/**/*.ts'],
    ignores: ['src/core/ws/accept.ts', 'src/webview/**', 'src/core/reload/client.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name=/^(WebSocket|WebSocketServer)$/], NewExpression[callee.property.name=/^(WebSocket|WebSocketServer|Server)$/][callee.object.name=/^(WebSocket|ws)$/]",
          message: 'Accept with WsAcceptor and connect with openWebSocket (src/core/ws/accept.ts): each socket gets its error handling there.',
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', 'scripts/**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['media/**/*.js', 'test/fixtures/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser, acquireVsCodeApi: 'readonly' } },
  },
  {
    // The guide's page is kept as the guide wrote it: globals by assignment, no semicolons.
    files: ['test/fixtures/guide/**/*.js'],
    rules: { 'no-undef': 'off', '@typescript-eslint/no-unused-vars': 'off' },
  },
  {
    files: ['media/demo/websocket.js'],
    // Called from the page's form.
    rules: { '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^sendMessage$' }] },
  },
);
