// Starts code-server (the real VS Code workbench and extension host, offline) with this
// extension loaded, and Debian's Chromium on it. Used by the host test runner and the UI tests.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../chromium.mjs';
import { ensureCodeServer } from './install-code-server.mjs';
import { freePort } from '../free-port.mjs';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));


/** User settings for a quiet, predictable editor. */
const SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'remote.autoForwardPorts': false,
  'window.commandCenter': false,
};

/** With workspace trust on: folders start untrusted (restricted mode) and nobody is asked. */
const TRUST_SETTINGS = {
  'security.workspace.trust.enabled': true,
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.banner': 'never',
  'security.workspace.trust.emptyWindow': false,
};

/**
 * Starts code-server on a free loopback port. Forwarded ports are exposed the way Codespaces does
 * it, one host name per port (`<port>.localhost:<code-server port>`), so asExternalUri returns a
 * URL that differs from the server's own: exactly the remote case the extension must handle.
 * `workspaceTrust: true` keeps workspace trust on, so the opened folder is untrusted.
 */
export async function startCodeServer({ env = {}, log = () => {}, vsix, workspaceTrust = false } = {}) {
  const { nodeBin, codeServerEntry } = ensureCodeServer();
  const temp = mkdtempSync(join(tmpdir(), 'echo-preview-host-'));
  const dirs = { userData: join(temp, 'user-data'), extensions: join(temp, 'extensions'), xdg: join(temp, 'xdg') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  const settings = workspaceTrust ? { ...SETTINGS, ...TRUST_SETTINGS } : SETTINGS;
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  if (vsix) installVsix(nodeBin, codeServerEntry, vsix, dirs);
  const port = await freePort();
  const proxyDomain = `{{port}}.localhost:${port}`;
  const child = spawn(
    nodeBin,
    [
      codeServerEntry,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      '--ignore-last-opened',
      '--proxy-domain', proxyDomain,
      // code-server refuses a proxied WebSocket whose Origin is not the forwarded host; the
      // message panel (a webview on code-server's own origin) needs its origin trusted.
      '--trusted-origins', `127.0.0.1:${port}`,
      '--user-data-dir', dirs.userData,
      '--extensions-dir', dirs.extensions,
      '--vscode-option', 'enable-smoke-test-driver',
    ],
    {
      env: {
        ...process.env,
        ...env,
        VSCODE_PROXY_URI: `http://${proxyDomain}/`,
        XDG_DATA_HOME: dirs.xdg,
        XDG_CONFIG_HOME: dirs.xdg,
        XDG_CACHE_HOME: dirs.xdg,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so close() ends the extension host too
    },
  );
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk) => {
      output += chunk;
      log(String(chunk));
      if (/HTTP server listening on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`code-server exited (${code}) before listening:\n${output}`));
    });
  });
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const killer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(temp, { recursive: true, force: true });
  };
  return { port, url: `http://127.0.0.1:${port}`, exited, output: () => output, close };
}

/** Installs a packaged extension the way a person does, into this run's extensions folder. */
function installVsix(nodeBin, codeServerEntry, vsix, dirs) {
  const result = spawnSync(
    nodeBin,
    [codeServerEntry, '--install-extension', vsix, '--extensions-dir', dirs.extensions, '--user-data-dir', dirs.userData],
    { encoding: 'utf8', env: { ...process.env, XDG_DATA_HOME: dirs.xdg, XDG_CONFIG_HOME: dirs.xdg, XDG_CACHE_HOME: dirs.xdg } },
  );
  if (result.status !== 0) throw new Error(`installing ${vsix} failed:\n${result.stdout}${result.stderr}`);
}

/**
 * The workbench URL for a folder or a .code-workspace file, with this extension loaded from
 * source and, optionally, a test index to run in the extension host.
 */
export function workbenchUrl(server, { workspace, testsPath, extensionPath = REPO }) {
  const remote = (path) => `vscode-remote://127.0.0.1:${server.port}${path}`;
  const payload = [
    ['skipWelcome', 'true'],
    ['skipReleaseNotes', 'true'],
  ];
  // null: the extension is installed from a .vsix instead of loaded from source.
  if (extensionPath) payload.push(['extensionDevelopmentPath', remote(extensionPath)]);
  if (testsPath) payload.push(['extensionTestsPath', remote(testsPath)]);
  const target = workspace.endsWith('.code-workspace') ? `workspace=${encodeURIComponent(workspace)}` : `folder=${encodeURIComponent(workspace)}`;
  return `${server.url}/?${target}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/**
 * code-server + Chromium + a workbench window: for UI tests that act like a person. With `vsix`,
 * the packaged extension is installed as a user would install it, instead of loaded from source.
 */
export async function openEditorWindow({ workspace, env = {}, vsix, viewport = { width: 1400, height: 900 } }) {
  const server = await startCodeServer({ env, vsix });
  let browser;
  try {
    browser = await launchChromium();
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(workbenchUrl(server, { workspace, extensionPath: vsix ? null : REPO }));
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    return {
      server,
      browser,
      context,
      page,
      close: async () => {
        await browser.close().catch(() => undefined);
        await server.close();
      },
    };
  } catch (error) {
    await browser?.close().catch(() => undefined);
    await server.close();
    throw error;
  }
}
