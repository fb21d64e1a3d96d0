// ESLint flat config: typescript-eslint's recommended rules, plus the one architectural rule
// that keeps the server core editor-free.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

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
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'src/core is plain Node: it must never import vscode.' }] }],
    },
  },
  {
    // Every WebSocket the product accepts or opens goes through wsAccept.ts, which handles its errors.
    files: ['src/**/*.ts'],
    ignores: ['src/core/wsAccept.ts', 'src/webview/**', 'src/reload-client/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name=/^(WebSocket|WebSocketServer)$/], NewExpression[callee.property.name=/^(WebSocket|WebSocketServer|Server)$/][callee.object.name=/^(WebSocket|ws)$/]",
          message: 'Accept with WsAcceptor and connect with openWebSocket (src/core/wsAccept.ts): each socket gets its error handling there.',
        },
      ],
    },
  },
  {
    // The inspector UI runs in a browser or a webview: neither vscode nor Node is there.
    files: ['src/webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'The inspector UI runs in a webview or a browser: talk to the host through host.ts.' }],
          patterns: [{ group: ['node:*', '../core/*', '!../core/har'], message: 'The inspector UI runs in a browser: no Node modules (har.ts is the one core module made for it).' }],
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
