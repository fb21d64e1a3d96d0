/**
 * The config file as VS Code's settings.json: comments and trailing commas load (through the CLI),
 * a syntax error still names its line and column in our words, and nesting beyond MAX_JSON_DEPTH
 * (100,000 levels included) is one clear problem while the server keeps serving.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { checkConfigText } from '../../src/core/config/check';
import { parseJson } from '../../src/core/config/json';
import { MAX_JSON_DEPTH, TOO_DEEP } from '../../src/shared/boundedJson';
import { runCli, startCli } from '../support/cli';
import { tempDir } from '../support/http';
import { linesOf } from '../support/inbox';
import { openWithInbox } from '../support/modes';
import { echoAll, openClient } from '../support/ws';

const ENV = { proxyBeyondLoopback: true };
const FILE = '/site/.echo-preview.json';

/** A config with line and block comments, and a trailing comma in every object and array. */
const COMMENTED = `// Echo Preview's endpoints: comments and trailing commas, as in settings.json
{
  /* the echo, and a greeter */
  "endpoints": {
    "/websocket": { "mode": "echo", }, // a trailing comma in an object
    "/greet": {
      "mode": "script",
      "onConnect": [{ "send": "hello", },], /* and in an array */
    },
  },
}
`;

/** Where `checkConfigText` puts the problem of `text`: "line:col message". */
function problemOf(text: string): string {
  const checked = checkConfigText(FILE, text, ENV);
  assert.ok(!checked.ok, `expected a problem in ${text}`);
  return `${checked.problem.line}:${checked.problem.column} ${checked.problem.message}`;
}

/** A script endpoint at /websocket whose greeting is `depth` nested arrays; the file's own objects and arrays add 5 levels. */
const PREFIX = '{"endpoints": {"/websocket": {"mode": "script", "onConnect": [{"send": ';
function nested(depth: number): string {
  return `${PREFIX}${'['.repeat(depth)}${']'.repeat(depth)}}]}}}`;
}

describe('the config file takes comments and trailing commas', () => {
  it('loads a commented config with trailing commas through the CLI, and serves it', async () => {
    const folder = tempDir();
    writeFileSync(path.join(folder.dir, '.echo-preview.json'), COMMENTED);
    const run = await startCli([folder.dir, '--port', '0']);
    try {
      await run.waitFor((out) => out.includes('/greet  (script)\n'), 'the endpoint list');
      assert.match(run.stdout(), new RegExp(`\\n  ws://127\\.0\\.0\\.1:${run.port}/websocket  \\(echo\\)\\n  ws://127\\.0\\.0\\.1:${run.port}/greet  \\(script\\)\\n`));
      assert.equal(run.stderr(), '');
      // The inbox listens before the handshake ends: the greeting can come with it.
      const greeted = await openWithInbox(`ws://127.0.0.1:${run.port}/greet`);
      assert.deepEqual(await greeted.inbox.next(), { text: 'hello', binary: false });
      greeted.ws.close();
      const ws = await openClient(`ws://127.0.0.1:${run.port}/websocket`);
      assert.deepEqual(await echoAll(ws, ['commented']), [{ data: Buffer.from('commented'), binary: false }]);
      ws.close();
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
      folder.cleanup();
    }
  });

  it('still refuses a broken commented config at its line and column, through the CLI', async () => {
    const folder = tempDir();
    const file = path.join(folder.dir, '.echo-preview.json');
    // A comma missing after "/websocket" (line 5), found at the comment's end: the next key, line 6.
    writeFileSync(file, COMMENTED.replace('{ "mode": "echo", }, //', '{ "mode": "echo", } //'));
    const cli = await runCli([folder.dir, '--port', '0']);
    assert.equal(cli.code, 1);
    assert.equal(cli.stderr, `echo-preview: ${file}:6:5: expected "," or "}", found "\\""\n`);
    folder.cleanup();
  });
});

describe('config syntax errors name their line and column in plain words', () => {
  it('points inside strings, at comments, numbers, separators and keys', () => {
    const afterComma = '{"endpoints": {"/s": {"mode": "script", "onConnect": [{"send": "a"},,]}}}';
    const cases: Array<[string, string]> = [
      ['{"endpoints": {"/a": {"mode": "echo', '1:31 this string is not closed (a " is missing)'],
      ['{\n  "endpoints": {\n    "/a": {"mode": "echo}\n  }\n}', '3:26 a string cannot hold a control character (U+000A); write it escaped, e.g. \\n'],
      ['{"endpoints": {"/a": {"mode": "ec\tho"}}}', '1:34 a string cannot hold a control character (U+0009); write it escaped, e.g. \\n'],
      ['{"endpoints": {"/a": {"mode": "\\u12g4"}}}', '1:32 "\\u" must be followed by four hex digits'],
      ['{"endpoints": {"/a": {"mode": "e\\qcho"}}}', '1:33 "\\q" is not a JSON escape (use \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)'],
      ['{\n  "endpoints": {"/a": {"mode": "echo"}}\n  /* unclosed\n}', '3:3 this comment is not closed (a "*/" is missing)'],
      ['{\n  // a comment with "quotes" and { braces\n  "endpoints": {"/a": {"mode": "echo"}}\n  "x": 1\n}', '4:3 expected "," or "}", found "\\""'],
      ['{"endpoints" {"/a": {"mode": "echo"}}}', '1:14 expected ":" after the property name, found "{"'],
      [afterComma, `1:${afterComma.indexOf(',,') + 2} expected a value, found ","`],
      ['{"endpoints": \u0001{}}', '1:15 expected a value, found a control character (U+0001)'],
      ['{"endpoints": {"/a": {"mode": "echo"}}, "n": 1.}', '1:46 this is not a JSON number (no leading zeros, "+", or a bare "." )'],
      ['{\n  "endpoints": {"/a": {"mode": "echo"}},\n  /* again */ "endpoints": {}\n}', '3:15 duplicate property "endpoints"'],
      ['{"endpoints": {"/a": {"mode": "echo"}}} /* c */ x', '1:49 unexpected "x" after the end of the JSON value'],
      ['// only a comment\n', '2:1 the file holds no JSON value'],
      ['{"endpoints": {"/a": {"mode": "echo"}}, "__proto__": {}}', '1:41 unknown property "__proto__" at the top level (allowed: "$schema", "endpoints")'],
    ];
    for (const [text, expected] of cases) assert.equal(problemOf(text), expected, JSON.stringify(text));
  });
});

describe('config nesting is bounded by MAX_JSON_DEPTH', () => {
  it('parses nesting at the limit and refuses one level more, at the bracket that goes too deep', () => {
    const atLimit = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    assert.ok(parseJson(atLimit).ok);
    const deeper = `[${atLimit}]`;
    assert.deepEqual(parseJson(deeper), { ok: false, offset: MAX_JSON_DEPTH, message: TOO_DEEP });
  });

  it('refuses a file nested 100,000 deep with one clear problem while the server keeps serving, then applies the fix', async () => {
    const folder = tempDir();
    const file = path.join(folder.dir, '.echo-preview.json');
    writeFileSync(file, JSON.stringify({ endpoints: { '/websocket': { mode: 'echo' } } }));
    const run = await startCli([folder.dir, '--port', '0']);
    assert.ok(run.child.stderr);
    const errors = linesOf(run.child.stderr, 'the CLI stderr');
    try {
      const ws = await openClient(`ws://127.0.0.1:${run.port}/websocket`);
      writeFileSync(file, nested(100_000)); // written in place
      // The 6th level is the greeting's first "["; the first too deep is the (MAX_JSON_DEPTH - 5)th.
      const column = PREFIX.length + MAX_JSON_DEPTH - 5 + 1;
      assert.equal(await errors.next(), `echo-preview: ${file}:1:${column}: ${TOO_DEEP} (keeping the last good config)`);
      assert.deepEqual(await echoAll(ws, ['still served']), [{ data: Buffer.from('still served'), binary: false }]);
      writeFileSync(file, nested(MAX_JSON_DEPTH - 5));
      await run.waitFor((out) => out.includes(`/websocket  (script)\n`), 'the fixed config applied');
      const greeted = await openWithInbox(`ws://127.0.0.1:${run.port}/websocket`);
      const greeting = await greeted.inbox.next();
      assert.equal(greeting.text, JSON.stringify(JSON.parse(`${'['.repeat(MAX_JSON_DEPTH - 5)}${']'.repeat(MAX_JSON_DEPTH - 5)}`)));
      greeted.ws.close();
      ws.close();
      assert.equal(run.child.exitCode, null, 'the server is still running');
    } finally {
      run.child.kill('SIGTERM');
      await run.exit;
      folder.cleanup();
    }
  });
});
