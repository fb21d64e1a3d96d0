// `npm test`: lint, type-check, build, then every test suite, stopping at nothing so the summary
// shows all failures; exits non-zero if any step failed. Ends with "N passed, N failed".
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const node = process.execPath;
const bin = (name) => `node_modules/.bin/${name}`;

/** Each step: a name, a command, and how to read pass/fail counts from its output. */
const steps = [
  { name: 'lint', cmd: [bin('eslint'), '.'] },
  // Import cycles: any at run time fails, as does a type-only one inside a folder (.dependency-cruiser.cjs).
  { name: 'import cycles', cmd: [bin('depcruise'), 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'] },
  { name: 'type-check and compile tests', cmd: [bin('tsc'), '-p', 'tsconfig.test.json'] },
  // The inspector UI again, with the browser's types only (no Node), as it runs.
  { name: 'type-check the inspector UI (DOM, no Node)', cmd: [bin('tsc'), '-p', 'src/webview/tsconfig.json'] },
  { name: 'build', cmd: [node, 'esbuild.mjs'] },
  // Installed here, on first use, so the time it takes never counts against a test's timeout.
  { name: 'offline editor host (code-server, installed on first use)', cmd: [node, 'scripts/host/install-code-server.mjs'] },
  {
    name: 'core, CLI and browser tests',
    cmd: [node, '--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', '--test-reporter-destination=out/node-test.tap', 'out/test/unit/', 'out/test/e2e/'],
    counts: 'node-tap-file',
  },
];
if (existsSync(`${repo}/scripts/host/run-host-tests.mjs`) && existsSync(`${repo}/src/editor/extension.ts`)) {
  steps.push({ name: 'extension host tests', cmd: [node, 'scripts/host/run-host-tests.mjs'], counts: 'mocha' });
  // Restricted mode: a folder the editor does not trust, whose settings must be ignored (~6 s).
  steps.push({ name: 'extension host tests, untrusted workspace', cmd: [node, 'scripts/host/run-host-tests.mjs', '--untrusted'], counts: 'mocha' });
}

function run(cmd) {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

async function countsOf(step, output) {
  if (step.counts === 'node-tap-file') {
    const { readFileSync } = await import('node:fs');
    const tap = readFileSync(`${repo}/out/node-test.tap`, 'utf8');
    return { passed: Number(/^# pass (\d+)/m.exec(tap)?.[1] ?? 0), failed: Number(/^# fail (\d+)/m.exec(tap)?.[1] ?? 0) };
  }
  if (step.counts === 'mocha') {
    return { passed: Number(/(\d+) passing/.exec(output)?.[1] ?? 0), failed: Number(/(\d+) failing/.exec(output)?.[1] ?? 0) };
  }
  return undefined;
}

// Compiled tests from files that no longer exist must not run.
rmSync(`${repo}/out`, { recursive: true, force: true });

let passed = 0;
let failed = 0;
const failedSteps = [];
for (const step of steps) {
  console.log(`\n=== ${step.name} ===`);
  const started = Date.now();
  const { code, output } = await run(step.cmd);
  const counts = await countsOf(step, output).catch(() => undefined);
  if (counts) {
    passed += counts.passed;
    failed += counts.failed;
  }
  if (code !== 0) {
    failedSteps.push(step.name);
    // A step that failed without a failing test (crash, lint, a host that did not start) still counts.
    if (!counts || counts.failed === 0) failed += 1;
  }
  console.log(`=== ${step.name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s ===`);
}

console.log('');
if (failedSteps.length > 0) console.log(`Failed steps: ${failedSteps.join(', ')}`);
if (passed === 0 && failedSteps.length === 0) {
  console.log('No test ran: that is a failure.');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failedSteps.length > 0 || failed > 0 ? 1 : 0;
