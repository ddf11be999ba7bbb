/**
 * The viewer page in a real browser, on the running demo: `node examples/demo/index.js` (built
 * packages; `pnpm test` builds first) with its three services exporting over OTLP to the viewer.
 * Browser: Debian's Chromium at /usr/bin/chromium, driven by playwright-core (which never
 * downloads one); scripts/ensure-chromium.sh installs it with apt-get when it is missing.
 *
 * VIEWER_SCREENSHOT=docs/viewer.png npx jest packages/viewer/test/browser.test.ts
 * also saves the screenshot the README shows.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import type { TraceDetail, TraceSummary, ViewerSpan } from '../src';
import { getJson, until } from './helpers';

// Globals of the page, used inside page.evaluate callbacks: this file compiles without the DOM lib
// (a lib reference would bring the DOM types into every file of the program).
declare const document: any;
declare const window: any;
declare const MutationObserver: any;
type HTMLElement = { dataset: Record<string, string | undefined>; id: string };

const ROOT = resolve(__dirname, '..', '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

jest.setTimeout(180000);

let demo: ChildProcess;
let demoOut = '';
let url: string;
let context: BrowserContext;
let page: Page;
let profile: string;

const isAborted = (s: ViewerSpan) => s.attributes['tracewire.stream.aborted'] === true;
const detail = (id: string) => getJson<TraceDetail>(url, `/api/traces/${id}`);

beforeAll(async () => {
  execFileSync('bash', [join(ROOT, 'scripts', 'ensure-chromium.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 900000 });

  demo = spawn(process.execPath, [join(ROOT, 'examples', 'demo', 'index.js')], {
    // No random failures: the cases the test looks for come from the first round, one of each.
    env: { ...process.env, VIEWER_PORT: '0', DEMO_DURATION: '170', DEMO_QUIET: '1', MOCK_LLM_ERROR_RATE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo.stdout!.on('data', (c: Buffer) => (demoOut += c.toString()));
  demo.stderr!.on('data', (c: Buffer) => (demoOut += c.toString()));
  url = await until(() => /^viewer: (http:\/\/127\.0\.0\.1:\d+)$/m.exec(demoOut)?.[1], 30000).catch(() => {
    throw new Error(`the demo printed no viewer line:\n${demoOut}`);
  });

  profile = mkdtempSync(join(tmpdir(), 'tracewire-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1440, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
});

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (demo && demo.exitCode === null) {
    const exited = new Promise((r) => demo.once('exit', r));
    demo.kill('SIGTERM');
    await exited;
  }
});

describe('the viewer page on the running demo', () => {
  let llmTrace: TraceSummary;
  let abortedId: string;

  beforeAll(async () => {
    // The first round sends one request of each case; wait until the normal turn and the client
    // abort have both arrived from all three services.
    const found = await until(async () => {
      const traces = await getJson<TraceSummary[]>(url, '/api/traces?limit=200');
      let normal: TraceSummary | undefined;
      for (const t of traces.filter((x) => x.services.length === 3 && x.llm.calls === 1 && !x.error && x.llm.cost !== null)) {
        // The plain OpenAI turn (gpt-5.4-mini), not the slow or the Anthropic one.
        if (!normal && (await detail(t.traceId)).spans.some((s) => s.name === 'chat gpt-5.4-mini')) normal = t;
      }
      for (const t of traces.filter((x) => x.error && x.services.length === 3)) {
        const d = await detail(t.traceId);
        if (new Set(d.spans.filter(isAborted).map((s) => s.service)).size === 3 && normal) return { normal, aborted: t.traceId };
      }
      return undefined;
    }, 60000).catch((err) => {
      throw new Error(`${err.message}; demo output:\n${demoOut}`);
    });
    llmTrace = found.normal;
    abortedId = found.aborted;
  });

  it('fills the trace list from the demo, live', async () => {
    await page.goto(url);
    await page.waitForSelector('#trace-list .trace-row');
    const before = await page.locator('#trace-list .trace-row').count();
    expect(before).toBeGreaterThanOrEqual(3);
    await expect(page.locator('#live').textContent()).resolves.toBe('live');
    // The demo keeps sending: more rows arrive without a reload (SSE).
    await page.waitForFunction((n) => document.querySelectorAll('#trace-list .trace-row').length > n, before, { timeout: 30000 });
    expect(await page.locator('#totals-figures').textContent()).toMatch(/Requests\d+/);
  });

  it('shows the metrics the services send to /v1/metrics: every request by route, every LLM call by model', async () => {
    await page.waitForSelector('#metrics:not([hidden]) #metrics-routes tbody tr', { timeout: 30000 });
    const routes = await page.locator('#metrics-routes tbody th').allTextContents();
    expect(routes).toEqual(expect.arrayContaining(['gateway · /api/chat', 'chat · /v1/chat']));
    const models = await page.locator('#metrics-models tbody th').allTextContents();
    expect(models).toEqual(expect.arrayContaining(['chat · gpt-5.4-mini']));
    // The panel is what the API says (the API's numbers are checked in metrics.test.ts).
    const api = await getJson<{ routes: Array<{ service: string; route: string | null; requests: number }> }>(url, '/api/metrics');
    const gateway = api.routes.find((r) => r.service === 'gateway' && r.route === '/api/chat')!;
    expect(gateway.requests).toBeGreaterThan(0);
  });

  it('opens a three-service waterfall whose LLM span shows TTFT, tokens and cost', async () => {
    await page.click(`#trace-list button[data-trace-id="${llmTrace.traceId}"]`);
    await page.waitForSelector('.waterfall .span-row');
    // Focus moves to the trace's heading, for keyboard and screen-reader users.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('detail-title');
    const services = await page.$$eval('.waterfall .span-row', (rows) => [...new Set(rows.map((r) => (r as HTMLElement).dataset.service))].sort());
    expect(services).toEqual(['chat', 'gateway', 'mock-llm']);
    expect(await page.locator('.legend li').allTextContents()).toEqual(['gateway', 'chat', 'mock-llm']);

    const call = page.locator('.waterfall .span-row.is-llm');
    expect(await call.count()).toBe(1);
    const text = await call.textContent();
    expect(text).toMatch(/^chat gpt-5\.4-mini/);
    expect(text).toMatch(/TTFT \d+ ms/); // gpt-5.4-mini's first token comes within half a second
    expect(text).toMatch(/\d+ → \d+ tok/);
    expect(text).toMatch(/\$0\.\d+/);
    expect(await call.getAttribute('aria-label')).toMatch(/client span of chat, .*first token after \d+ ms, \d+ input tokens, \d+ output tokens, cost \$/);
    expect(await call.locator('.ttft-marker').count()).toBe(1);

    // The call is selected on open: the LLM panel with the figures and the captured conversation.
    const panel = page.locator('.llm-panel');
    const facts = await panel.locator('.llm-facts').textContent();
    for (const label of ['Provideropenai', 'Modelgpt-5.4-mini', 'Time to first token', 'Chunks', 'Input tokens', 'Output tokens', 'Cached input tokens', 'Cost$', 'Finish reasonsstop']) {
      expect(facts).toContain(label);
    }
    expect(await panel.locator('.msg.role-system').count()).toBe(1);
    expect(await panel.locator('.msg.role-user').count()).toBe(1);
    expect(await panel.locator('.msg.role-assistant').textContent()).toMatch(/assistant.*\w+/);
  });

  it('moves through rows with the arrow keys and opens a span with Enter', async () => {
    const rows = page.locator('.waterfall .span-row');
    await rows.first().focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.service)).toBe('gateway');
    await page.keyboard.press('ArrowDown');
    const id = await page.evaluate(() => (document.activeElement as HTMLElement).dataset.spanId);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('span-title');
    expect(await page.locator('.waterfall .span-row[aria-current="true"]').getAttribute('data-span-id')).toBe(id);
    await page.keyboard.press('Escape');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.spanId)).toBe(id);
  });

  it('narrows the list with a filter', async () => {
    // Pause live updates so the counts compare one moment.
    await page.click('#pause');
    const all = await page.locator('#trace-list .trace-row').count();
    await page.selectOption('#f-status', 'error');
    await page.waitForFunction((n) => {
      const rows = [...document.querySelectorAll('#trace-list .trace-row')];
      return rows.length > 0 && rows.length < n && rows.every((r) => r.classList.contains('has-error'));
    }, all);
    expect(await page.locator('#list-status').textContent()).toMatch(/^\d+ traces? with errors\.$/);
    await page.fill('#f-q', 'claude');
    await page.waitForFunction(() => [...document.querySelectorAll('#trace-list .root-name')].length >= 0);
    await page.waitForFunction(() => (document.querySelector('#list-status')?.textContent ?? '').includes('matching “claude”'));
    const apiCount = (await getJson<TraceSummary[]>(url, '/api/traces?status=error&q=claude&limit=500')).length;
    expect(await page.locator('#trace-list .trace-row').count()).toBeLessThanOrEqual(apiCount);
    await page.click('button[type="reset"]');
    await page.waitForFunction((n) => document.querySelectorAll('#trace-list .trace-row').length >= n, all);
    await page.click('#pause');
  });

  it('never describes the list with filters its rows were not fetched for (an answer overtaken by a filter change)', async () => {
    await page.click('#pause');
    // The answer for status=error alone is held back until the search filter has changed.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    await page.route(/\/api\/(traces|totals)\?(?!.*q=)(?=.*status=error)/, async (route) => {
      await held;
      await route.continue();
    });
    const seen: string[] = [];
    await page.exposeFunction('__statusSeen', (text: string) => seen.push(text));
    await page.evaluate(() => {
      const status = document.querySelector('#list-status');
      new MutationObserver(() => {
        const rows = document.querySelectorAll('#trace-list .trace-row').length;
        window.__statusSeen(`${rows}|${status.textContent ?? ''}`);
      }).observe(status, { childList: true, characterData: true, subtree: true });
    });
    await page.selectOption('#f-status', 'error');
    // The held request has gone out (the filter's 200 ms debounce), then the search changes.
    await page.waitForTimeout(400);
    await page.fill('#f-q', 'claude');
    await page.waitForTimeout(50);
    release();
    await page.waitForFunction(() => (document.querySelector('#list-status')?.textContent ?? '').includes('matching “claude”'));
    const apiCount = (await getJson<TraceSummary[]>(url, '/api/traces?status=error&q=claude&limit=500')).length;
    await page.unroute(/\/api\/(traces|totals)\?/);
    // Every status that named the search described rows fetched with it.
    const described = seen.filter((t) => t.includes('matching'));
    expect(described.length).toBeGreaterThan(0);
    for (const t of described) expect(Number(t.split('|')[0])).toBeLessThanOrEqual(apiCount);
    // And the answer for the old filters, released late, was not shown over the new one.
    expect(await page.locator('#list-status').textContent()).toContain('matching “claude”');
    await page.click('button[type="reset"]');
    await page.click('#pause');
  });

  it('shows an aborted request as aborted, in every service it crossed', async () => {
    await page.selectOption('#f-status', 'error');
    await page.waitForSelector(`#trace-list button[data-trace-id="${abortedId}"]`);
    await page.click(`#trace-list button[data-trace-id="${abortedId}"]`);
    await page.waitForSelector('.waterfall .badge.aborted');
    const aborted = await page.$$eval('.waterfall .span-row', (rows) =>
      rows.filter((r) => r.querySelector('.badge.aborted')).map((r) => (r as HTMLElement).dataset.service));
    expect([...new Set(aborted)].sort()).toEqual(['chat', 'gateway', 'mock-llm']);
    expect(await page.locator('.waterfall .span-row').first().getAttribute('aria-label')).toMatch(/aborted by the client/);
    await page.click('.waterfall .span-row >> nth=0');
    expect(await page.locator('.span-facts').textContent()).toContain('Statusaborted by the client');
    await page.selectOption('#f-status', '');
  });

  it('takes a screenshot of the viewer (saved to $VIEWER_SCREENSHOT when set)', async () => {
    // The tool-call turn shows the most: two model calls around a tool span, across three services.
    const traces = await getJson<TraceSummary[]>(url, '/api/traces?limit=200');
    const shown = traces.find((t) => t.llm.calls === 2 && !t.error && t.services.length === 3) ?? llmTrace;
    await page.click(`#trace-list button[data-trace-id="${shown.traceId}"]`);
    await page.waitForSelector('.llm-panel');
    await page.evaluate(() => document.querySelector('#trace-list')!.scrollTo(0, 0));
    const png = await page.screenshot({ fullPage: false });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeGreaterThan(20000);
    if (process.env.VIEWER_SCREENSHOT) writeFileSync(resolve(ROOT, process.env.VIEWER_SCREENSHOT), png);
    // The page loaded nothing from elsewhere: every request went to the viewer's own origin.
    const origins = await page.evaluate(() => [...new Set(performance.getEntriesByType('resource').map((e) => new URL(e.name).origin))]);
    expect(origins.every((o) => o === new URL(url).origin)).toBe(true);
    expect(readFileSync(join(ROOT, 'packages', 'viewer', 'assets', 'index.html'), 'utf8')).not.toMatch(/https?:\/\//);
  });
});
