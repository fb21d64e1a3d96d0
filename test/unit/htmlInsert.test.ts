/**
 * The injected reload tag against a spec-compliant parser: over a generated corpus of tricky
 * pages (every tokenizer context holding `</body>` and live-looking markup, at the end and
 * before a real `</body>`, nested, random mixes), the page parsed after injection is the page
 * parsed before plus exactly one running HTML script with our src, or the page is served as it is.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { planReloadInjection, RELOAD_SCRIPT_PATH } from '../../src/core/reload/inject';
import { injectionProblem, loadParse5 } from '../support/domOracle';
import { corpus } from '../support/htmlCorpus';

/** Our tag's src: relative to the page, or absolute in a page with a `<base>`. */
const SRCS = [RELOAD_SCRIPT_PATH.slice(1), RELOAD_SCRIPT_PATH];

/** What a browser parses: the bytes as UTF-8, without the BOM. */
const decode = (bytes: Buffer): string => bytes.toString('utf8').replace(/^\ufeff/, '');

describe('injected reload tag: the DOM gains exactly one script', () => {
  before(loadParse5);

  it('for every document of the corpus (or the page is served as it is, where allowed)', (t) => {
    const docs = corpus();
    const failures: string[] = [];
    const skipped: string[] = [];
    for (const doc of docs) {
      const bytes = Buffer.from(doc.html, 'utf8');
      const result = planReloadInjection(bytes);
      if (result.page === undefined) {
        skipped.push(`${doc.name}: ${result.skipped}`);
        if (doc.mustInject) failures.push(`${doc.name}: not injected (${result.skipped})\n${JSON.stringify(doc.html)}`);
        continue;
      }
      const problem = injectionProblem(decode(bytes), decode(result.page), SRCS);
      if (problem !== undefined) failures.push(`${doc.name}: ${JSON.stringify(doc.html)}\n→ ${JSON.stringify(decode(result.page))}\n${problem}`);
    }
    t.diagnostic(`${docs.length} documents, ${skipped.length} served as they are`);
    if (process.env.SHOW_SKIPPED) t.diagnostic(skipped.join('\n'));
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${docs.length} documents fail`);
  });
});
