/**
 * What a newcomer installs: `npm run package` in a copy of the repository, then the .vsix read
 * back entry by entry. Its manifest names only files it holds, its command line runs, its page is
 * the user README (images and links resolvable from the marketplace), and it stays small.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { startCli } from '../support/cli';
import { REPO_ROOT, get, tempDir } from '../support/http';

const VSIX_BUDGET_BYTES = 250_000;
/** The main bundle's budget (BENCHMARKS.md): the editor's shell, without the core it loads on first use. */
const MAIN_BUNDLE_BUDGET_BYTES = 200_000;
/** In ws's handshake (the key's GUID, the header): found in a bundle that holds the server's WebSocket code. */
const WS_MARKERS = ['258EAFA5-E914-47DA-95CA-C5AB0DC85B11', 'Sec-WebSocket-Accept'];
const IMAGE_BUDGET_BYTES = 100_000;
/** What a clone does not have, or what packaging makes: left out of the copy. */
const NOT_COPIED = new Set(['.git', 'node_modules', 'dist', 'out', 'test-results', '.vscode-test', 'bench-results', '.bench-tools']);

/** Every entry of a zip archive (stored or deflated, as vsce writes them), by name. */
function readZip(zip: Buffer): Map<string, Buffer> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, 'no end of central directory: not a zip');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, 'central directory entry expected');
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const data = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(data, data + compressed);
    assert.ok(method === 0 || method === 8, `${name}: compression method ${method}`);
    entries.set(name, method === 8 ? inflateRawSync(raw) : raw);
  }
  return entries;
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.equal(png.toString('latin1', 1, 4), 'PNG', 'not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

interface Manifest {
  version: string;
  main: string;
  icon?: string;
  bin?: string | Record<string, string>;
  repository?: { url: string };
  contributes?: { jsonValidation?: Array<{ fileMatch: string; url: string }> };
}

describe('the packaged extension (.vsix)', { timeout: 120_000 }, () => {
  let work: { dir: string; cleanup: () => void };
  let vsixBytes: number;
  let files: Map<string, Buffer>;
  let manifest: Manifest;
  let repoUrl: string;

  before(() => {
    work = tempDir('echo-preview-package-');
    const clone = path.join(work.dir, 'clone');
    // A copy, so that packaging builds dist/ and the .vsix there and never races other tests.
    cpSync(REPO_ROOT, clone, { recursive: true, filter: (source) => !(path.dirname(source) === REPO_ROOT && NOT_COPIED.has(path.basename(source))) && !source.endsWith('.vsix') });
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
    execFileSync('npm', ['run', 'package', '--silent'], { cwd: clone, stdio: ['ignore', 'ignore', 'pipe'] });
    const vsix = path.join(clone, 'echo-preview.vsix');
    vsixBytes = statSync(vsix).size;
    files = readZip(readFileSync(vsix));
    manifest = JSON.parse(files.get('extension/package.json')?.toString('utf8') ?? 'null') as Manifest;
    repoUrl = (manifest.repository?.url ?? '').replace(/\.git$/, '');
  });

  after(() => work?.cleanup());

  const text = (name: string): string => {
    const data = files.get(name);
    assert.ok(data, `${name} is not in the .vsix; it holds ${[...files.keys()].join(', ')}`);
    return data.toString('utf8');
  };

  it(`stays within ${VSIX_BUDGET_BYTES / 1000} KB`, () => {
    assert.ok(vsixBytes <= VSIX_BUDGET_BYTES, `the .vsix is ${vsixBytes} bytes`);
  });

  it('holds every file its package.json names: main, bin, icon and the JSON schemas', () => {
    const bins = typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
    const schemas = (manifest.contributes?.jsonValidation ?? []).map((v) => v.url);
    assert.ok(schemas.includes('./schemas/echo-preview.schema.json'), 'package.json contributes the config schema');
    const named = [manifest.main, ...bins, ...(manifest.icon ? [manifest.icon] : []), ...schemas];
    for (const file of named) {
      assert.ok(files.has(`extension/${path.posix.normalize(file)}`), `package.json names ${file}, which the .vsix does not contain`);
    }
    for (const schema of schemas) assert.doesNotThrow(() => JSON.parse(text(`extension/${path.posix.normalize(schema)}`)), `${schema} is JSON`);
  });

  it('has a 128×128 PNG icon, registered as the marketplace icon', () => {
    assert.ok(manifest.icon, 'package.json has no icon');
    assert.deepEqual(pngSize(files.get(`extension/${manifest.icon}`) ?? Buffer.alloc(0)), { width: 128, height: 128 });
    assert.match(text('extension.vsixmanifest'), new RegExp(`<Icon>extension/${manifest.icon}</Icon>`));
  });

  it('names its source repository, so relative README links resolve', () => {
    assert.match(repoUrl, /^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
    assert.match(text('extension.vsixmanifest'), new RegExp(`Links\\.Source" Value="${repoUrl.replace(/[.]/g, '\\.')}`));
  });

  it('carries a changelog with an entry for its version', () => {
    assert.match(text('extension/changelog.md'), new RegExp(`^## ${manifest.version.replace(/\./g, '\\.')}\\b`, 'm'));
  });

  /** The .vsix's files written out, once: its extension/ folder. */
  let unpackedDir: string | undefined;
  const unpack = (): string => {
    if (unpackedDir) return unpackedDir;
    const unpacked = path.join(work.dir, 'unpacked');
    for (const [name, data] of files) {
      if (!name.startsWith('extension/')) continue;
      mkdirSync(path.dirname(path.join(unpacked, name)), { recursive: true });
      writeFileSync(path.join(unpacked, name), data);
    }
    return (unpackedDir = path.join(unpacked, 'extension'));
  };

  it('holds the inspector UI the panel loads, and its command line serves it with --inspect', async () => {
    for (const file of ['dist/inspector.js', 'media/inspector/inspector.css', 'media/inspector/icon.svg']) {
      assert.ok(files.has(`extension/${file}`), `${file} is not in the .vsix`);
    }
    const extension = unpack();
    const run = await startCli([path.join(extension, 'media', 'demo'), '--port', '0', '--quiet', '--inspect'], { script: path.join(extension, 'dist', 'cli.js') });
    try {
      const [, port, page] = /\(inspector: http:\/\/127\.0\.0\.1:(\d+)(\/\S+\/)\)/.exec(run.ready) ?? [];
      assert.ok(page, `no inspector URL on the ready line: ${run.ready}`);
      for (const [file, shipped] of [['inspector.js', 'dist/inspector.js'], ['inspector.css', 'media/inspector/inspector.css']]) {
        const res = await get(Number(port), `${page}${file}`);
        assert.equal(res.status, 200, file);
        assert.equal(res.body.toString(), files.get(`extension/${shipped}`)?.toString(), `${file} is the shipped ${shipped}`);
      }
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
    }
  });

  it(`loads the core on first use: dist/extension.js (within ${MAIN_BUNDLE_BUDGET_BYTES / 1000} KB) holds no server, dist/core.js does and serves`, async () => {
    const main = text(`extension/${path.posix.normalize(manifest.main)}`);
    assert.equal(path.posix.normalize(manifest.main), 'dist/extension.js');
    for (const marker of WS_MARKERS) assert.ok(!main.includes(marker), `dist/extension.js holds the core's WebSocket code (${marker}): an editor module imports it statically`);
    assert.ok(main.length <= MAIN_BUNDLE_BUDGET_BYTES, `dist/extension.js is ${main.length} bytes`);
    const core = text('extension/dist/core.js');
    for (const marker of WS_MARKERS) assert.ok(core.includes(marker), `dist/core.js has no ${marker}`);
    // The shipped core, as the editor requires it: it starts a server that serves the shipped demo.
    const { startServer } = (await import(path.join(unpack(), 'dist', 'core.js'))) as typeof import('../../src/core/index');
    const server = await startServer({ root: path.join(unpack(), 'media', 'demo'), port: 0 });
    try {
      const page = await get(server.port, '/');
      assert.equal(page.status, 200);
      assert.match(page.body.toString(), /<script src="websocket\.js">/);
    } finally {
      await server.close();
    }
  });

  it('runs the command line it ships, on the demo it ships', async () => {
    const unpacked = path.dirname(unpack());
    const cli = path.join(unpacked, 'extension', 'dist', 'cli.js');
    assert.equal(execFileSync(process.execPath, [cli, '--version'], { encoding: 'utf8' }).trim(), manifest.version);
    const run = await startCli([path.join(unpacked, 'extension', 'media', 'demo'), '--port', '0', '--quiet'], { script: cli });
    try {
      const page = await get(run.port, '/');
      assert.equal(page.status, 200);
      assert.match(page.body.toString(), /<script src="websocket\.js">/);
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
    }
  });

  describe('its page: the user README', () => {
    let shipped: string;
    const source = (): string => readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

    before(() => {
      shipped = text('extension/readme.md');
    });

    it('starts with the two commands of the repository', () => {
      assert.match(shipped, /^# Echo Preview\n\n```sh\nnpm ci && npm start .*\nnpm test .*\n```\n/);
    });

    it('has no developer sections and no link outside the repository', () => {
      for (const heading of ['Tests', 'Benchmarks', 'Layout', 'Using the core from code']) {
        assert.doesNotMatch(shipped, new RegExp(`^#+ ${heading}\\s*$`, 'mi'), `README has a "${heading}" section`);
      }
      assert.doesNotMatch(shipped, /\.\.\/shared|\]\(\.\.\//);
    });

    it('is the repository README with only its relative links made absolute (no other rewriting)', () => {
      const relative = shipped.replaceAll(`${repoUrl}/raw/HEAD/`, '').replaceAll(`${repoUrl}/blob/HEAD/`, '');
      assert.equal(relative, source());
    });

    it('shows images from the repository that exist, are PNG and are small', () => {
      const images = [...shipped.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]);
      assert.ok(images.length >= 2, 'the README shows screenshots');
      for (const url of images) {
        assert.ok(url.startsWith(`${repoUrl}/raw/HEAD/`), `image ${url} is not served from the repository`);
        const file = path.join(REPO_ROOT, url.slice(`${repoUrl}/raw/HEAD/`.length));
        assert.ok(existsSync(file), `${url}: no such file in the repository`);
        assert.ok(file.endsWith('.png'), `${url}: the marketplace wants PNG`);
        pngSize(readFileSync(file));
        assert.ok(statSync(file).size < IMAGE_BUDGET_BYTES, `${url} is ${statSync(file).size} bytes`);
      }
    });

    it('links only to files the repository has', () => {
      const links = [...shipped.matchAll(/(?<!!)\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((url) => url.startsWith(`${repoUrl}/blob/HEAD/`));
      assert.ok(links.length > 0, 'the README links to CONTRIBUTING.md and CHANGELOG.md');
      for (const url of links) assert.ok(existsSync(path.join(REPO_ROOT, url.slice(`${repoUrl}/blob/HEAD/`.length))), `${url}: no such file`);
    });
  });
});

describe('documentation and install scripts of the repository', () => {
  it('no document links to ../shared/, which is not part of the repository', () => {
    const docs = ['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md', ...readdirSync(path.join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    for (const doc of docs) assert.doesNotMatch(readFileSync(path.join(REPO_ROOT, doc), 'utf8'), /\.\.\/shared\//, doc);
  });

  it('every dependency with an install script is approved or denied in allowScripts (npm ci warns about none)', (t) => {
    let report: string;
    try {
      report = execFileSync('npm', ['install-scripts', 'ls', '--json'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch {
      // allowScripts and this command came with npm 11; older npm runs every script and says nothing.
      return t.skip(`npm ${execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim()} has no install-scripts command`);
    }
    const pending = (JSON.parse(report) as { allowScripts: Array<{ name: string }> }).allowScripts.map((p) => p.name);
    assert.deepEqual(pending, [], `not covered by allowScripts in package.json: ${pending.join(', ')}`);
  });
});
