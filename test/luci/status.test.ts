// Status → wgts in Debian's Chromium: the real view/wgts/status.js in the
// LuCI stand-in, reading fixture `wgts.<ifname>` `status` replies (built by
// the daemon's statusTable) through the ACL. The browser clock is Playwright's
// fake one, so "12 s ago" and the 5 s poll are deterministic.
import t from 'tap';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { haveChromium, launch, until, watchErrors } from './browser.js';
import { fixtureKey, LAPTOP, networkFixture, PHONE, statusFixture } from './fixtures.js';
import type { FixturePeer } from './fixtures.js';
import { startFixtureServer } from './server.js';

// Browser globals used inside page.evaluate callbacks (the project's tsconfig has no DOM library).
declare const document: { querySelectorAll(s: string): ArrayLike<{ getAttribute(n: string): string | null; textContent: string | null }>; querySelector(s: string): { getAttribute(n: string): string | null; textContent: string | null } | null };

if (!haveChromium()) {
  t.plan(0, 'needs Debian\'s chromium (apt-get install chromium)');
  process.exit(0);
}

// WGTS_LUCI_SCREENSHOTS=1 also writes docs/luci-status.png (for the README).
const SCREENSHOT = process.env.WGTS_LUCI_SCREENSHOTS === '1' ? resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/luci-status.png') : null;

// The page's clock: paused at 2026-01-01T00:00:00Z, moved only by runFor.
const T0 = Date.UTC(2026, 0, 1);

const laptop: FixturePeer = {
  key: LAPTOP, description: 'laptop', endpoint: { address: '192.0.2.10', port: 51820 }, allowedIps: ['10.9.0.2/32', 'fd00:9::2/128'],
  handshakeMs: T0 - 12_000, rx: 123_456, tx: 7_890_123,
};
const phone: FixturePeer = {
  key: PHONE, description: '', endpoint: { address: '2001:db8::7', port: 40000 }, allowedIps: ['10.9.0.3/32'],
  handshakeMs: 0, rx: 0, tx: 0,
};

const server = await startFixtureServer({ network: networkFixture(), status: { wg0: statusFixture('wg0', [laptop]) } });
const browser = await launch();
t.teardown(async () => {
  await browser.close();
  await server.close();
});
const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
const errors = watchErrors(page);
await page.clock.install({ time: T0 - 1_000 });
await page.clock.pauseAt(T0);
await page.goto(`${server.url}/harness/index.html?page=status`);
await page.waitForSelector('body[data-ready]');
t.equal(await page.getAttribute('body', 'data-ready'), 'true', `the page loads${errors.length ? `: ${errors.join('; ')}` : ''}`);

interface Row { key: string | null; cells: Record<string, string>; points: string | null }

async function rows(p: Page, ifname: string): Promise<Row[]> {
  return p.evaluate((name) => Array.from(document.querySelectorAll(`.wgts-interface[data-interface="${name}"] tr.wgts-peer`)).map((tr) => {
    const cells: Record<string, string> = {};
    for (const c of ['wgts-endpoint', 'wgts-allowed-ips', 'wgts-handshake', 'wgts-rx', 'wgts-tx']) {
      cells[c] = ((tr as unknown as { querySelector(s: string): { textContent: string | null } | null }).querySelector(`.${c}`)?.textContent ?? '').trim();
    }
    const graph = (tr as unknown as { querySelector(s: string): { getAttribute(n: string): string | null } | null }).querySelector('.wgts-graph');
    return { key: tr.getAttribute('data-public-key'), cells, points: graph ? graph.getAttribute('data-points') : null };
  }), ifname);
}

t.test('interfaces and peers', async (t) => {
  t.same(await page.$$eval('.wgts-interface', (els) => els.map((e) => e.getAttribute('data-interface'))), ['wg0', 'wg1'], 'every proto wgts interface of /etc/config/network, not lan');
  const [row, ...more] = await rows(page, 'wg0');
  t.equal(more.length, 0, 'one peer on wg0');
  t.equal(row?.key, LAPTOP.publicKey, 'the peer, by public key');
  t.same(row?.cells, {
    'wgts-endpoint': '192.0.2.10:51820',
    'wgts-allowed-ips': '10.9.0.2/32, fd00:9::2/128',
    'wgts-handshake': '12 s ago',
    'wgts-rx': '120.6 KiB',
    'wgts-tx': '7.5 MiB',
  }, 'endpoint, allowed IPs, handshake age, human sizes');
  t.match(await page.textContent('.wgts-interface[data-interface="wg0"] tr.wgts-peer strong'), 'laptop', 'the description names the peer');
  t.match(await page.textContent('.wgts-interface[data-interface="wg0"] p'), fixtureKey(1).publicKey, 'the interface public key');
  t.match(await page.textContent('.wgts-interface[data-interface="wg1"] .wgts-down'), /not running: ubus has no object wgts\.wg1/, 'a stopped daemon is said plainly');
  t.equal(row?.points, '0', 'no rate yet after one reading');
});

t.test('live refresh through poll', async (t) => {
  const before = server.calls.length;
  // The daemon's counters move and a new peer appears.
  server.status.set('wg0', statusFixture('wg0', [{ ...laptop, rx: laptop.rx + 5 * 2048, tx: laptop.tx + 5 * 1024 }, phone]));
  await page.clock.runFor(5_000);
  await until(page, () => document.querySelectorAll('tr.wgts-peer').length === 2, 'the second peer to show');
  const [a, b] = await rows(page, 'wg0');
  t.equal(a?.cells['wgts-handshake'], '17 s ago', 'handshake age follows the clock');
  t.equal(a?.cells['wgts-rx'], '130.6 KiB', 'received bytes updated');
  t.equal(a?.points, '1', 'one rate point in the graph');
  t.match(await page.getAttribute('tr.wgts-peer .wgts-graph', 'title'), /received 2\.0 KiB\/s, sent 1\.0 KiB\/s/, 'rates from the counter deltas over 5 s');
  t.equal(b?.key, PHONE.publicKey, 'new peer');
  t.same(b?.cells, { 'wgts-endpoint': '[2001:db8::7]:40000', 'wgts-allowed-ips': '10.9.0.3/32', 'wgts-handshake': 'never', 'wgts-rx': '0 B', 'wgts-tx': '0 B' }, 'a peer without handshake');
  t.match(await page.textContent(`tr.wgts-peer[data-public-key="${PHONE.publicKey}"] strong`), 'Untitled peer', 'no description');
  const polled = server.calls.slice(before).map((c) => `${c.object} ${c.method}`);
  t.same([...new Set(polled)].sort(), ['uci get', 'wgts.wg0 status', 'wgts.wg1 status'], 'the refresh reads the config and each daemon');

  server.status.set('wg0', statusFixture('wg0', [{ ...laptop, handshakeMs: T0 + 9_000, rx: laptop.rx + 5 * 2048 + 5 * 4096, tx: laptop.tx + 5 * 1024 }, phone]));
  await page.clock.runFor(5_000);
  await until(page, () => document.querySelector('tr.wgts-peer .wgts-handshake')?.textContent === '1 s ago', 'the new handshake');
  const [c] = await rows(page, 'wg0');
  t.equal(c?.points, '2', 'the graph grows by one point per poll');
  t.match(await page.getAttribute('tr.wgts-peer .wgts-graph', 'title'), /received 4\.0 KiB\/s, sent 0 B\/s/, 'latest rates');
  const polyline = await page.getAttribute('tr.wgts-peer .wgts-graph svg polyline', 'points');
  t.equal(polyline?.split(' ').length, 2, 'the received line has two points');
  if (SCREENSHOT) {
    // A few more readings, so the graph has a shape.
    for (let i = 1; i <= 8; i++) {
      server.status.set('wg0', statusFixture('wg0', [
        { ...laptop, handshakeMs: T0 + 9_000 + i * 5_000, rx: laptop.rx + 30_720 + i * i * 9_000, tx: laptop.tx + 5 * 1024 + i * 4_000 },
        { ...phone, handshakeMs: T0 + 40_000, rx: i * 1_500 * (i % 3 + 1), tx: i * 700 },
      ]));
      await page.clock.runFor(5_000);
      await until(page, (n) => document.querySelector('tr.wgts-peer .wgts-graph')?.getAttribute('data-points') === String(n), 'the next reading', 100, 2 + i);
    }
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  }
});

t.test('text from the router is shown as text', async (t) => {
  const hostile = '<img src=x onerror="window.pwned=1">';
  server.status.set('wg0', statusFixture('wg0', [{ ...laptop, description: hostile }]));
  await page.clock.runFor(5_000);
  await until(page, () => document.querySelectorAll('tr.wgts-peer').length === 1, 'the refresh');
  t.equal(await page.textContent('tr.wgts-peer strong'), hostile, 'the description appears literally');
  t.equal(await page.locator('tr.wgts-peer strong img').count(), 0, 'no element made from it');
  t.equal(await page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined, 'no script ran');
});

t.test('only what the ACL grants', async (t) => {
  t.same(server.calls.filter((c) => c.denied), [], 'no call was denied');
  t.same([...new Set(server.calls.map((c) => `${c.object} ${c.method}`))].sort(), ['uci get', 'wgts.wg0 status', 'wgts.wg1 status'], 'only uci get and wgts.<if> status');
  t.same(errors.filter((e) => !/Object not found/.test(e)), [], 'no page errors');
});
