// Approximates the extension's activation time without an editor: in a fresh Node process,
// times require('dist/extension.js') and activate(context), with `vscode` answered by a
// stand-in whose every member is a no-op. The editor's own work around activation (reading the
// manifest, creating the API object, the activation event) is not in this figure.
'use strict';
const Module = require('node:module');
const path = require('node:path');

/** Any property is another stand-in, calls and `new` return one, assignments are kept. */
function standIn(name) {
  const stored = new Map();
  const target = function () {};
  return new Proxy(target, {
    get(_, key) {
      if (key === 'then') return undefined; // not a promise: `await standIn` must not hang
      if (key === Symbol.toPrimitive) return () => '';
      if (key === Symbol.iterator) return function* () {};
      if (key === 'toString' || key === 'toJSON') return () => name;
      if (typeof key === 'symbol') return undefined;
      if (!stored.has(key)) stored.set(key, standIn(`${name}.${key}`));
      return stored.get(key);
    },
    set(_, key, value) {
      stored.set(key, value);
      return true;
    },
    apply: () => standIn(`${name}()`),
    construct: () => standIn(`new ${name}`),
    has: () => true,
  });
}

/**
 * The module itself is a plain object: bundlers copy a CommonJS module's own keys (esbuild's
 * __toESM), so every namespace and class the extension may touch is listed here.
 */
const API_NAMES = [
  'commands', 'env', 'extensions', 'l10n', 'languages', 'window', 'workspace', 'Disposable', 'EventEmitter', 'LogLevel',
  'MarkdownString', 'QuickPickItemKind', 'StatusBarAlignment', 'ThemeColor', 'ThemeIcon', 'Uri', 'ViewColumn',
  'ConfigurationTarget', 'ProgressLocation', 'RelativePattern', 'FileType',
];
const vscode = Object.fromEntries(API_NAMES.map((name) => [name, standIn(`vscode.${name}`)]));
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === 'vscode' ? vscode : load.call(this, request, ...rest);
};

const extensionPath = path.resolve(process.argv[2]);
const context = { subscriptions: [], extensionUri: standIn('extensionUri'), extensionPath: path.dirname(path.dirname(extensionPath)) };
const started = performance.now();
const extension = require(extensionPath);
const loaded = performance.now();
extension.activate(context);
const activated = performance.now();
process.stdout.write(
  JSON.stringify({
    requireMs: loaded - started,
    activateMs: activated - loaded,
    totalMs: activated - started,
    subscriptions: context.subscriptions.length,
    // The core server (dist/core.js) loads on first use: activation alone should not have loaded it.
    coreLoaded: Object.keys(require.cache).includes(path.join(path.dirname(extensionPath), 'core.js')),
  }) + '\n',
);
// Whatever activate() scheduled (timers, watchers) must not keep the probe alive.
process.exit(0);
