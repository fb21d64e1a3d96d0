/**
 * The panel's CSP builder on hostile input that settings validation would normally stop first:
 * whatever the WebSocket URL holds, the policy keeps exactly its six directives.
 */
import * as assert from 'node:assert/strict';
import { connectSource, panelCsp } from '../../src/editor/panels/csp';

const NONCE = 'bm9uY2Vub25jZW5vbmNlMQ==';

describe('the message panel CSP', () => {
  it('encodes every path character that could end a directive or a source', () => {
    for (const char of [';', ',', "'", '"', ' ', '\t', '\n', '|', '^', '[', ']', '{', '}', '<', '>', '`', 'é', '日', '\u2028']) {
      const source = connectSource(`ws://127.0.0.1:8080/a${char}b`);
      assert.match(source, /^ws:\/\/127\.0\.0\.1:8080\/a[A-Za-z0-9%]*b$/, JSON.stringify(char));
      const policy = panelCsp({ wsUrl: `ws://127.0.0.1:8080/a${char}b; script-src *`, cspSource: 'http://127.0.0.1:9000', nonce: NONCE });
      assert.equal(policy.split('; ').length, 6, policy);
      assert.doesNotMatch(policy, /script-src \*/);
    }
  });

  it('keeps a forwarded wss:// address with a path prefix, and refuses what is not a WebSocket URL', () => {
    assert.equal(connectSource('wss://8080-abc.app.github.dev/proxy/8080/сокет'), 'wss://8080-abc.app.github.dev/proxy/8080/%D1%81%D0%BE%D0%BA%D0%B5%D1%82');
    for (const bad of ['http://127.0.0.1:8080/websocket', 'ws://user:pw@127.0.0.1/ws', 'javascript:alert(1)', 'not a url']) {
      assert.throws(() => connectSource(bad), bad);
    }
  });

  it('refuses a webview cspSource or nonce that would add directives', () => {
    assert.throws(() => panelCsp({ wsUrl: undefined, cspSource: "https://a.example; script-src 'unsafe-inline'", nonce: NONCE }));
    assert.throws(() => panelCsp({ wsUrl: undefined, cspSource: 'https://*.vscode-cdn.net', nonce: "x'; script-src *" }));
    assert.match(panelCsp({ wsUrl: undefined, cspSource: "'self' https://*.vscode-cdn.net", nonce: NONCE }), /connect-src 'none'/);
  });
});
