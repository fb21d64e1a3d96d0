// Runs the mocha suite in test/host/ inside a real extension host, and exits with its result.
// VS Code through @vscode/test-electron when VSCODE_EXECUTABLE is set (or ECHO_PREVIEW_HOST=electron
// lets it download one); otherwise code-server offline, installed on first use into .vscode-test/.
// `--untrusted` runs the untrusted suite instead: workspace trust on, and a folder whose settings
// try what restricted mode must ignore (test/fixtures/workspace/untrusted).
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { launchChromium } from '../chromium.mjs';
import { REPO, startCodeServer, workbenchUrl } from './code-server.mjs';

const TESTS_INDEX = join(REPO, 'out', 'test', 'host', 'index.js');
const FIXTURE = join(REPO, 'test', 'fixtures', 'workspace');
const UNTRUSTED = process.argv.includes('--untrusted');
/** What the editor opens in the copy: the multi-root workspace file, or the untrusted folder. */
const OPENED = UNTRUSTED ? 'untrusted' : 'echo.code-workspace';
/** Read by test/host/index.ts in the extension host (code-server passes its environment on). */
const SUITE_ENV = { ECHO_PREVIEW_HOST_SUITE: UNTRUSTED ? 'untrusted' : 'trusted' };
/** Offline noise from the workbench (it looks for extension updates it can never reach). */
const NOISE = /open-vsx\.org|AccountPolicyGate|^\s+at (async )?\S+ \(http:\/\/127\.0\.0\.1:\d+\/stable-/;
const TIMEOUT_MS = Number(process.env.ECHO_PREVIEW_HOST_TIMEOUT_MS ?? 240_000);

/** A fresh copy of the fixture workspace, so tests may write into it. */
function copyWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), 'echo-preview-ws-'));
  cpSync(FIXTURE, dir, { recursive: true });
  return { dir, file: join(dir, OPENED), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function runWithElectron(workspace) {
  const { runTests } = await import('@vscode/test-electron');
  console.log(`[host] runner: @vscode/test-electron (${process.env.VSCODE_EXECUTABLE ?? 'downloaded VS Code'}), ${SUITE_ENV.ECHO_PREVIEW_HOST_SUITE} suite`);
  return runTests({
    vscodeExecutablePath: process.env.VSCODE_EXECUTABLE,
    extensionDevelopmentPath: REPO,
    extensionTestsPath: TESTS_INDEX,
    extensionTestsEnv: SUITE_ENV,
    launchArgs: [workspace.file, '--disable-extensions', ...(UNTRUSTED ? [] : ['--disable-workspace-trust'])],
  });
}

async function runWithCodeServer(workspace) {
  console.log(`[host] runner: code-server (offline VS Code host) in Chromium, ${SUITE_ENV.ECHO_PREVIEW_HOST_SUITE} suite`);
  const server = await startCodeServer({ env: SUITE_ENV, workspaceTrust: UNTRUSTED });
  let browser;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    const result = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`host tests did not finish within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
      void page.exposeFunction('codeAutomationLog', (type, args) => {
        const text = format(...(Array.isArray(args) ? args : [args]));
        const kept = text.split('\n').filter((line) => !NOISE.test(line));
        if (kept.length > 0) (type === 'error' ? console.error : console.log)(kept.join('\n'));
      });
      void page.exposeFunction('codeAutomationExit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
      page.on('crash', () => reject(new Error('the workbench page crashed')));
      void server.exited.then(({ code }) => reject(new Error(`code-server exited (${code}) during the tests:\n${server.output().slice(-2000)}`)));
    });
    await page.goto(workbenchUrl(server, { workspace: workspace.file, testsPath: TESTS_INDEX }));
    return await result;
  } finally {
    await browser?.close().catch(() => undefined);
    await server.close();
  }
}

const workspace = copyWorkspace();
let exitCode = 1;
try {
  const useElectron = Boolean(process.env.VSCODE_EXECUTABLE) || process.env.ECHO_PREVIEW_HOST === 'electron';
  exitCode = useElectron ? await runWithElectron(workspace) : await runWithCodeServer(workspace);
  if (exitCode !== 0) console.error(`[host] the extension host tests failed (exit ${exitCode})`);
} catch (error) {
  console.error(`[host] ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  workspace.cleanup();
}
process.exit(exitCode);
