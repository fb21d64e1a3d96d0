/**
 * The inspector UI's end-to-end flow, shared by its two hosts (the editor panel in code-server
 * and the CLI's `--inspect` page in plain Chromium): two tabs of the demo attributed apart, a
 * push to one tab only, a JSON frame formatted and a binary frame as hex, the filter, and the
 * HAR export. A screenshot after each step.
 */
import assert from 'node:assert/strict';
import type { FrameLocator, Page } from 'playwright-core';

/** The inspector's document: a Page (CLI) or the webview's content frame (editor). */
export type InspectorUi = Pick<Page, 'locator'> | FrameLocator;

export interface DemoTab {
  page: Page;
  /** The tab's client id in the inspector. */
  id: number;
  /** Every message the tab's socket received, in order. */
  received(): Promise<string[]>;
  /** Types into the guide's Message: box and waits for the echo in #replytxt. */
  echo(text: string): Promise<void>;
}

export interface FlowHost {
  ui: InspectorUi;
  /** Screenshot of what the person sees now (the editor window, or the inspector page). */
  shot(name: string): Promise<void>;
  /** Clicks the export button and returns the saved file's text. */
  exportHar(): Promise<string>;
}

/** Ids of the open clients the inspector lists, lowest first. */
export async function openClientIds(ui: InspectorUi): Promise<number[]> {
  const ids = await ui.locator('#clients .client[data-state="open"]').evaluateAll((rows) => rows.map((row) => Number((row as HTMLElement).dataset.id)));
  return ids.sort((a, b) => a - b);
}

/** Opens the demo page in a fresh tab, waits for "WebSocket connected." and for the inspector to list the tab. */
export async function openDemoTab(browser: { newPage(): Promise<Page> }, url: string, ui: InspectorUi): Promise<DemoTab> {
  const before = new Set(await openClientIds(ui));
  const page = await browser.newPage();
  // A tab closed while its alert is open rejects the accept: not a failure of the flow.
  page.on('dialog', (dialog) => void dialog.accept().catch(() => undefined));
  const connected = page.waitForEvent('dialog', { predicate: (d) => d.message() === 'WebSocket connected.', timeout: 15_000 });
  await page.goto(url);
  await connected;
  await page.evaluate(() => {
    const got: string[] = [];
    (window as unknown as { received: string[] }).received = got;
    (window as unknown as { Websock: WebSocket }).Websock.addEventListener('message', (event) => got.push(String(event.data)));
  });
  // An open client that was not there before: the tab (others may close meanwhile).
  const fresh = `#clients .client[data-state="open"]${[...before].map((id) => `:not(#client-${id})`).join('')}`;
  await ui.locator(fresh).first().waitFor({ timeout: 15_000 });
  const id = Number(await ui.locator(fresh).first().getAttribute('data-id'));
  await ui.locator(`#client-${id}`, { hasText: 'tab' }).waitFor();
  return {
    page,
    id,
    received: () => page.evaluate(() => [...(window as unknown as { received: string[] }).received]),
    echo: async (text) => {
      await page.fill('#msgbox', text);
      await page.press('#msgbox', 'Enter');
      await page.waitForFunction((expected) => document.getElementById('replytxt')?.textContent === expected, text);
    },
  };
}

/** A timeline row by its client, direction and text (rows are virtualized: the few here are all rendered). */
export function timelineRow(ui: InspectorUi, client: number, dir: 'in' | 'out', text: string | RegExp) {
  return ui.locator(`#timeline .vlist-row.dir-${dir}`, { has: ui.locator('.c-client', { hasText: new RegExp(`^#${client} `) }) }).filter({ hasText: text });
}

/** Opens a row's details with the keyboard: click it (the active row), then Enter. */
async function openDetails(ui: InspectorUi, row: ReturnType<typeof timelineRow>): Promise<void> {
  await row.first().click();
  await ui.locator('#timeline').press('Enter');
  await ui.locator('#details:not([hidden])').waitFor();
}

export async function runInspectorFlow(host: FlowHost, tabs: [DemoTab, DemoTab]): Promise<void> {
  const { ui } = host;
  const [a, b] = tabs;
  assert.notEqual(a.id, b.id);
  // The inspector's own client is listed and marked.
  await ui.locator('#clients .client.own', { hasText: 'This inspector' }).waitFor();
  await host.shot('01-two-tabs-connected');

  // Frames typed in each tab appear attributed to that tab.
  await a.echo('typed in tab A');
  await b.echo('typed in tab B');
  for (const [tab, text] of [[a, 'typed in tab A'], [b, 'typed in tab B']] as const) {
    await timelineRow(ui, tab.id, 'in', text).waitFor();
    await timelineRow(ui, tab.id, 'out', text).waitFor();
    assert.equal(await timelineRow(ui, tab === a ? b.id : a.id, 'in', text).count(), 0, `${text} is attributed to the other tab`);
  }
  // The echo's round trip is shown on its row.
  assert.match((await timelineRow(ui, a.id, 'out', 'typed in tab A').locator('.c-rtt').textContent()) ?? '', /\d+(\.\d+)? ms/);
  await host.shot('02-frames-attributed');

  // A push from the inspector to tab A reaches A's #replytxt and not B.
  await ui.locator('#compose-pane > summary').click();
  await ui.locator('#compose-target').selectOption(`client:${a.id}`);
  await ui.locator('#compose-body').fill('pushed to tab A');
  await ui.locator('#compose-send').click();
  await a.page.waitForFunction(() => document.getElementById('replytxt')?.textContent === 'pushed to tab A');
  await b.echo('B after the push'); // anything B was sent before this echo has arrived by now
  assert.ok(!(await b.received()).includes('pushed to tab A'), `tab B got the push: ${JSON.stringify(await b.received())}`);
  assert.equal(await b.page.locator('#replytxt').textContent(), 'B after the push');
  await timelineRow(ui, a.id, 'out', 'pushed to tab A').waitFor();
  await ui.locator('#compose-pane > summary').click(); // fold compose again
  await host.shot('03-push-to-one-tab');

  // A JSON frame shows formatted; a binary frame as hex and ASCII.
  await b.echo('{"kind":"json","n":[1,2],"ok":true}');
  await openDetails(ui, timelineRow(ui, b.id, 'in', '"kind":"json"'));
  const json = ui.locator('#details-json');
  await json.waitFor();
  const formatted = await json.innerText();
  assert.match(formatted, /^\{\s*\n\s+"kind": "json",\s*\n\s+"n": \[\s*\n\s+1,\s*\n\s+2\s*\n\s+\],\s*\n\s+"ok": true\s*\n\}$/, formatted);
  await host.shot('04-json-formatted');
  await b.page.evaluate(() => (window as unknown as { Websock: WebSocket }).Websock.send(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x48, 0x69]).buffer));
  const binaryRow = ui.locator('#timeline .vlist-row.dir-in.kind-binary', { has: ui.locator('.c-client', { hasText: new RegExp(`^#${b.id} `) }) });
  await binaryRow.waitFor();
  await openDetails(ui, binaryRow);
  await ui.locator('#details pre.hex', { hasText: '00000000  de ad be ef 48 69' }).waitFor();
  assert.match((await ui.locator('#details pre.hex').textContent()) ?? '', /de ad be ef 48 69\s+\.\.\.\.Hi$/);
  await host.shot('05-binary-hex');
  await ui.locator('#timeline').press('Escape');
  await ui.locator('#details').waitFor({ state: 'hidden' });

  // The filter narrows the timeline to what matches.
  const rows = ui.locator('#timeline .vlist-row:not([hidden])');
  const before = await rows.count();
  await ui.locator('#filter-text').fill('typed in tab A');
  await ui.locator('#stats', { hasText: /^2 of / }).waitFor();
  assert.deepEqual(await rows.locator('.c-data').allTextContents(), ['typed in tab A', 'typed in tab A']);
  assert.ok(before > 2, `the timeline had ${before} rows before the filter`);
  await host.shot('06-filtered');
  await ui.locator('#filter-text').fill('');
  await ui.locator('#stats', { hasText: /^([\d,]+) of \1 rows shown/ }).waitFor(); // every row again

  // The HAR export parses as HAR 1.2 and holds those frames, attributed per client.
  const har = JSON.parse(await host.exportHar()) as {
    log: { version: string; creator: { name: string }; entries: Array<{ _resourceType: string; response: { status: number }; _client: { id: number }; _webSocketMessages: Array<{ type: string; opcode: number; data: string }> }> };
  };
  assert.equal(har.log.version, '1.2');
  assert.equal(har.log.creator.name, 'Echo Preview');
  const entry = (id: number) => har.log.entries.find((e) => e._client.id === id);
  const entryA = entry(a.id);
  const entryB = entry(b.id);
  assert.ok(entryA && entryB, `entries for both tabs: ${har.log.entries.map((e) => e._client.id).join(', ')}`);
  for (const e of [entryA, entryB]) {
    assert.equal(e._resourceType, 'websocket');
    assert.equal(e.response.status, 101);
  }
  const messages = (e: typeof entryA) => e._webSocketMessages.map((m) => `${m.type} ${m.opcode} ${m.data}`);
  assert.deepEqual(messages(entryA).slice(0, 3), ['send 1 typed in tab A', 'receive 1 typed in tab A', 'receive 1 pushed to tab A']);
  assert.ok(messages(entryB).includes('send 2 3q2+70hp'), `B's binary frame, base64: ${JSON.stringify(messages(entryB))}`);
  assert.ok(!messages(entryB).some((m) => m.includes('tab A')), "none of A's frames under B");
  await host.shot('07-exported');
}
