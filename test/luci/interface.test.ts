// Network → Interfaces → wg0 (proto wgts), in Debian's Chromium: the real
// protocol/wgts.js and wgts/lib.js from openwrt/luci-app-wgts, inside the
// LuCI stand-in of test/luci/harness (no registry ships LuCI), against
// fixture UCI data. Checks every field, key generation (verified in Node
// with @noble/curves and Node's own X25519), that invalid input is refused
// and never reaches the router, the exact uci calls a save makes (and that
// the daemon's own UCI reader accepts the result), and that the peer's QR
// code decodes to a configuration that wgts and wireguard-tools parse.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { x25519 } from '@noble/curves/ed25519.js';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { parseUci, translateWgtsInterface } from '../../src/control/uci.js';
import { parseWgConf } from '../../src/control/wgconf.js';
import { publicKeyOf as nodePublicKeyOf } from '../helpers/keys.js';
import { haveChromium, launch, until, watchErrors } from './browser.js';
import { b64, LAPTOP, networkFixture, ROUTER } from './fixtures.js';
import { startFixtureServer, uciText } from './server.js';

// jsqr is CommonJS whose module.exports is the decoder itself.
const jsQR = createRequire(import.meta.url)('jsqr') as typeof import('jsqr').default;

// Browser globals used inside page.evaluate callbacks (the project's tsconfig has no DOM library).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
declare const XMLSerializer: any;
declare const Image: any;
declare function btoa(s: string): string;

if (!haveChromium()) {
  t.plan(0, 'needs Debian\'s chromium (apt-get install chromium)');
  process.exit(0);
}

const server = await startFixtureServer({ network: networkFixture(), status: {} });
const browser = await launch();
t.teardown(async () => {
  await browser.close();
  await server.close();
});
const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
const errors = watchErrors(page);

// WGTS_LUCI_SCREENSHOTS=1 also writes docs/luci-interface.png (for the README).
const SCREENSHOT = process.env.WGTS_LUCI_SCREENSHOTS === '1' ? resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/luci-interface.png') : null;

const VIEW = '#view';
const MODAL = '#modal_overlay .modal';
const input = (scope: string, sid: string, option: string): string => `${scope} [id="cbid.network.${sid}.${option}"]`;
const field = (scope: string, option: string): string => `${scope} [data-name="${option}"]`;

/** uci calls that change the configuration (what "Save" stages on the router). */
const writes = () => server.calls.filter((c) => c.object === 'uci' && ['add', 'set', 'delete'].includes(c.method));

function publicOf(privateKey: string): string {
  return b64(x25519.getPublicKey(new Uint8Array(Buffer.from(privateKey, 'base64'))));
}

async function text(p: Page, selector: string): Promise<string> {
  return (await p.textContent(selector))?.trim() ?? '';
}

await page.goto(`${server.url}/harness/index.html?page=interface&if=wg0`);
await page.waitForSelector('body[data-ready]');
t.equal(await page.getAttribute('body', 'data-ready'), 'true', `the form loads${errors.length ? `: ${errors.join('; ')}` : ''}`);

t.test('the form renders every field', async (t) => {
  for (const option of ['proto', 'private_key', '_public_key', '_generate_key', 'listen_port', 'addresses', 'mtu', 'fwmark', '_peers']) {
    t.equal(await page.locator(field(VIEW, option)).count(), 1, `field ${option}`);
  }
  t.equal(await page.inputValue(input(VIEW, 'wg0', 'private_key')), ROUTER.privateKey, 'private key from UCI');
  t.equal(await page.getAttribute(input(VIEW, 'wg0', 'private_key'), 'type'), 'password', 'private key is a password field');
  t.equal(await text(page, '#wgts-pubkey-wg0'), ROUTER.publicKey, 'public key shown, derived from the private key');
  t.equal(await page.inputValue(input(VIEW, 'wg0', 'listen_port')), '51820', 'listen port');
  t.same(await page.$$eval(`${field(VIEW, 'addresses')} .item`, (items) => items.map((i) => i.getAttribute('data-value'))), ['10.9.0.1/24', 'fd00:9::1/64'], 'addresses');

  // The peers tab: a grid with the fixture peer.
  await page.click(`${VIEW} a[data-tab="peers"]`);
  const row = `${VIEW} tr[data-sid="cfg0c1d2e"]`;
  t.equal(await page.locator(row).count(), 1, 'the peer section is a row');
  t.equal(await text(page, `${row} td[data-name="description"]`), 'laptop', 'description column');
  t.equal(await text(page, `${row} td[data-name="endpoint_host"]`), '192.0.2.10:51820', 'endpoint column (host:port)');
  t.equal(await text(page, `${row} td[data-name="allowed_ips"]`), '10.9.0.2/32', 'allowed IPs column');
  t.equal(await text(page, `${row} td[data-name="public_key"]`), `${LAPTOP.publicKey.slice(0, 6)}…${LAPTOP.publicKey.slice(-6)}`, 'public key column, shortened');

  // Its edit dialog has every peer option.
  await page.click(`${row} .cbi-button-edit`);
  await page.waitForSelector(`${MODAL} [data-name="public_key"]`);
  for (const option of ['disabled', 'description', 'public_key', 'private_key', '_generate_peer_key', 'preshared_key', '_generate_psk',
    'allowed_ips', 'route_allowed_ips', 'endpoint_host', 'endpoint_port', 'persistent_keepalive', '_client_config']) {
    t.equal(await page.locator(field(MODAL, option)).count(), 1, `peer field ${option}`);
  }
  t.equal(await page.inputValue(input(MODAL, 'cfg0c1d2e', 'public_key')), LAPTOP.publicKey, 'peer public key');
  t.equal(await page.inputValue(input(MODAL, 'cfg0c1d2e', 'persistent_keepalive')), '25', 'keepalive');
  await page.click(`${MODAL} button:text("Dismiss")`);
  t.equal(await page.locator(`${MODAL} [data-name]`).count(), 0, 'dialog dismissed');
  t.same(writes(), [], 'looking changes nothing');
});

let generatedPrivate = '';

t.test('Generate makes a valid key pair in the browser', async (t) => {
  await page.click(`${VIEW} a[data-tab="general"]`);
  const before = server.calls.length;
  await page.click(`${field(VIEW, '_generate_key')} button`);
  generatedPrivate = await page.inputValue(input(VIEW, 'wg0', 'private_key'));
  const shown = await text(page, '#wgts-pubkey-wg0');
  const raw = Buffer.from(generatedPrivate, 'base64');
  t.equal(raw.length, 32, 'private key: 32 bytes of base64');
  t.equal(b64(raw), generatedPrivate, 'canonical base64');
  t.equal(raw[0]! & 7, 0, 'clamped: low 3 bits clear');
  t.equal(raw[31]! & 0xc0, 0x40, 'clamped: top bit clear, bit 254 set');
  t.not(generatedPrivate, ROUTER.privateKey, 'a new key');
  t.equal(shown, publicOf(generatedPrivate), 'shown public key = X25519(private) by @noble/curves in Node');
  t.equal(shown, nodePublicKeyOf(generatedPrivate), "and by Node's own X25519");
  t.equal(server.calls.length, before, 'nothing was sent to the router');

  await page.click(`${field(VIEW, '_generate_key')} button`);
  t.not(await page.inputValue(input(VIEW, 'wg0', 'private_key')), generatedPrivate, 'a second press gives another key');
  generatedPrivate = await page.inputValue(input(VIEW, 'wg0', 'private_key'));
  t.equal(await text(page, '#wgts-pubkey-wg0'), publicOf(generatedPrivate), 'and its public key');
});

t.test('invalid input shows an error and is not saved', async (t) => {
  const cases: Array<{ tab: string; option: string; bad: string; message: RegExp; list?: boolean }> = [
    { tab: 'general', option: 'listen_port', bad: '70000', message: /not a port number \(0\.\.65535\)/ },
    { tab: 'general', option: 'private_key', bad: 'not-a-key', message: /Not a WireGuard key/ },
    { tab: 'general', option: 'addresses', bad: '10.9.0.300/24', message: /not an IPv4 or IPv6 address/, list: true },
    { tab: 'general', option: 'addresses', bad: '10.9.0.1/33', message: /prefix length must be 0\.\.32/, list: true },
    { tab: 'advanced', option: 'mtu', bad: '100', message: /not an MTU/ },
    { tab: 'advanced', option: 'fwmark', bad: '0xfffffffff', message: /not a firewall mark/ },
  ];
  for (const c of cases) {
    await page.click(`${VIEW} a[data-tab="${c.tab}"]`);
    const box = input(VIEW, 'wg0', c.option);
    const original = c.list ? '' : await page.inputValue(box);
    await page.fill(box, c.bad);
    t.match(await text(page, `${field(VIEW, c.option)} .cbi-value-error`), c.message, `${c.option} '${c.bad}': message beside the field`);
    t.ok(await page.$eval(box, (e) => e.classList.contains('cbi-input-invalid')), `${c.option}: marked invalid`);
    if (c.list) {
      await page.press(box, 'Enter');
      t.equal(await page.locator(`${field(VIEW, c.option)} .item[data-value="${c.bad}"]`).count(), 0, `${c.option}: an invalid entry is not added to the list`);
    }
    await page.click('#harness-save');
    await page.waitForSelector(`${MODAL} .save-error`);
    t.match(await text(page, `${MODAL} .save-error`), c.message, `${c.option}: Save refuses with the message`);
    await page.click(`${MODAL} button:text("Dismiss")`);
    await page.fill(box, original);
    t.equal(await page.locator(`${field(VIEW, c.option)} .cbi-value-error`).count(), 0, `${c.option}: error gone once corrected`);
  }

  // A peer's bad values keep its dialog open and out of the configuration.
  await page.click(`${VIEW} a[data-tab="peers"]`);
  await page.click(`${VIEW} tr[data-sid="cfg0c1d2e"] .cbi-button-edit`);
  await page.waitForSelector(`${MODAL} [data-name="public_key"]`);
  const peerCases: Array<{ option: string; bad: string; message: RegExp }> = [
    { option: 'public_key', bad: `${LAPTOP.publicKey.slice(0, 43)}A`, message: /Not a WireGuard key/ },
    { option: 'allowed_ips', bad: '10.9.0.0/40', message: /not an IP address or network in CIDR notation/ },
    { option: 'endpoint_port', bad: '0', message: /not a port number \(1\.\.65535\)/ },
    { option: 'endpoint_host', bad: 'bad host!', message: /neither an IP address nor a host name/ },
    { option: 'persistent_keepalive', bad: '-1', message: /not a keepalive interval/ },
  ];
  for (const c of peerCases) {
    const box = input(MODAL, 'cfg0c1d2e', c.option);
    const original = c.option === 'allowed_ips' ? '' : await page.inputValue(box);
    await page.fill(box, c.bad);
    t.match(await text(page, `${field(MODAL, c.option)} .cbi-value-error`), c.message, `peer ${c.option} '${c.bad}': message`);
    await page.click(`${MODAL} button:text("Save")`);
    t.equal(await page.locator(`${MODAL} [data-name="public_key"]`).count(), 1, `peer ${c.option}: the dialog stays open`);
    await page.fill(box, original);
  }
  await page.click(`${MODAL} button:text("Dismiss")`);
  t.same(writes(), [], 'no uci add/set/delete reached the router');
  t.equal(server.calls.filter((c) => c.denied).length, 0, 'every call was allowed by the ACL');
});

t.test('a new peer: keys, QR code, download, and exactly the expected UCI changes', async (t) => {
  await page.click(`${VIEW} a[data-tab="peers"]`);
  await page.click(`${VIEW} .cbi-section-create button`);
  await page.waitForSelector(`${MODAL} [data-name="public_key"]`);
  const sid = (await page.getAttribute(`${MODAL} [data-name="public_key"]`, 'data-field'))!.split('.')[2]!;
  t.match(sid, /^new[0-9a-f]+$/, 'a new anonymous section');

  await page.fill(input(MODAL, sid, 'description'), 'phone');
  await page.click(`${field(MODAL, '_generate_peer_key')} button`);
  await page.click(`${field(MODAL, '_generate_psk')} button`);
  const peerPrivate = await page.inputValue(input(MODAL, sid, 'private_key'));
  const peerPublic = await page.inputValue(input(MODAL, sid, 'public_key'));
  const psk = await page.inputValue(input(MODAL, sid, 'preshared_key'));
  t.equal(peerPublic, publicOf(peerPrivate), 'peer key pair is consistent (checked with @noble/curves)');
  t.equal(Buffer.from(psk, 'base64').length, 32, 'preshared key: 32 bytes');
  await page.fill(input(MODAL, sid, 'allowed_ips'), '10.9.0.3/32');
  await page.press(input(MODAL, sid, 'allowed_ips'), 'Enter');
  await page.check(input(MODAL, sid, 'route_allowed_ips'));
  await page.fill(input(MODAL, sid, 'persistent_keepalive'), '25');

  // Client configuration: QR code and file, from the dialog's values.
  await page.fill(`${MODAL} input[name="wgts-export-host"]`, 'vpn.example.org');
  await page.fill(`${MODAL} input[name="wgts-export-dns"]`, '10.9.0.1');
  await page.click(`${MODAL} button:text("Show QR code and configuration")`);
  await page.waitForSelector(`${MODAL} .wgts-qr svg`);
  const shownText = (await page.textContent(`${MODAL} .wgts-config-text`))!;
  if (SCREENSHOT) {
    await page.setViewportSize({ width: 1000, height: 1720 });
    await page.screenshot({ path: SCREENSHOT });
    await page.setViewportSize({ width: 1100, height: 900 });
  }

  // Decode the QR code from the pixels Chromium draws for it.
  const image = await page.evaluate(async () => {
    const svg = document.querySelector('#modal_overlay .wgts-qr svg');
    const xml = new XMLSerializer().serializeToString(svg);
    const img = new Image();
    await new Promise((ok, fail) => { img.onload = ok; img.onerror = fail; img.src = `data:image/svg+xml;base64,${btoa(xml)}`; });
    const scale = 4;
    const width = svg.viewBox.baseVal.width * scale;
    const height = svg.viewBox.baseVal.height * scale;
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, width, height);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(img, 0, 0, width, height);
    return { width, height, data: Array.from(ctx.getImageData(0, 0, width, height).data) as number[] };
  });
  const qr = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  if (!t.ok(qr, `jsQR finds a QR code in the ${image.width}x${image.height} rendering`)) return;
  const decoded = qr!.data;
  t.equal(decoded, shownText, 'the QR code holds the configuration shown on the page');

  const parsed = parseWgConf(decoded, { allowQuickFields: true });
  if (!('config' in parsed)) {
    t.fail(`wgts parses the client config: ${JSON.stringify(parsed.errors)}`);
    return;
  }
  const config = parsed.config;
  t.equal(b64(config.privateKey!), peerPrivate, '[Interface] PrivateKey: the peer\'s private key');
  t.same(config.quick?.Address, ['10.9.0.3/32'], 'Address: the peer\'s allowed IP');
  t.same(config.quick?.DNS, ['10.9.0.1'], 'DNS');
  t.equal(config.peers.length, 1, 'one [Peer]: the router');
  const routerPeer = config.peers[0]!;
  t.equal(b64(routerPeer.publicKey), publicOf(generatedPrivate), 'PublicKey: the router\'s (from the key generated above, not yet saved)');
  t.equal(b64(routerPeer.presharedKey!), psk, 'PresharedKey');
  t.same(routerPeer.endpoint, { host: 'vpn.example.org', port: 51820 }, 'Endpoint: the host given and the listen port');
  t.same(routerPeer.allowedIps.map((c) => `${Buffer.from(c.address).length === 4 ? [...c.address].join('.') : 'v6'}/${c.bits}`), ['0.0.0.0/0', 'v6/0'], 'AllowedIPs: everything');
  t.equal(routerPeer.persistentKeepalive, 25, 'PersistentKeepalive');

  // wireguard-tools: wg-quick strip reads it (as wg-quick up would), wg pubkey checks the key.
  const dir = mkdtempSync(join(tmpdir(), 'wgts-luci-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'wgphone0.conf'), decoded, { mode: 0o600 });
  const strip = spawnSync('wg-quick', ['strip', join(dir, 'wgphone0.conf')], { encoding: 'utf8' });
  t.equal(strip.status, 0, `wg-quick strip accepts it${strip.stderr ? `: ${strip.stderr}` : ''}`);
  t.match(strip.stdout, new RegExp(`PrivateKey = ${peerPrivate.replace(/[+/]/g, '\\$&')}`), 'wg-quick keeps the [Interface] key');
  t.notMatch(strip.stdout, /Address|DNS/, 'and strips the wg-quick fields, leaving what wg setconf reads');
  const pub = spawnSync('wg', ['pubkey'], { input: `${peerPrivate}\n`, encoding: 'utf8' });
  t.equal(pub.stdout.trim(), peerPublic, 'wg pubkey of the QR\'s private key = the peer public key in the form');

  // The download link carries the same text.
  const download = await page.evaluate(async () => {
    const a = document.querySelector('#modal_overlay a.wgts-download');
    return { name: a.getAttribute('download'), body: await (await fetch(a.href)).text() };
  });
  t.same(download, { name: 'phone.conf', body: decoded }, 'download: phone.conf with the same configuration');

  await page.click(`${MODAL} button:text("Save")`);
  await until(page, () => !document.querySelector('#modal_overlay .modal [data-name]'), 'the dialog to close');
  t.equal(await page.locator(`${VIEW} tr[data-sid="${sid}"] td[data-name="description"]`).textContent(), 'phone', 'the grid shows the new peer');
  t.same(writes(), [], 'nothing sent to the router before Save');

  await page.click('#harness-save');
  await until(page, () => window.harness.saved > 0, 'the save');
  const calls = writes();
  const added = calls.find((c) => c.method === 'add');
  t.same(calls.map((c) => `${c.method} ${String(c.args.config)} ${String(c.args.section ?? c.args.type)}`).sort(), [
    'add network wireguard_wg0',
    'set network wg0',
  ], 'exactly one section added and the interface changed');
  t.same(added?.args, {
    config: 'network',
    type: 'wireguard_wg0',
    values: {
      description: 'phone',
      public_key: peerPublic,
      private_key: peerPrivate,
      preshared_key: psk,
      allowed_ips: ['10.9.0.3/32'],
      route_allowed_ips: '1',
      persistent_keepalive: '25',
    },
  }, 'uci add: the peer\'s options, nothing empty');
  t.same(calls.find((c) => c.method === 'set')?.args, { config: 'network', section: 'wg0', values: { private_key: generatedPrivate } }, 'uci set: only the new private key');

  // The daemon reads the saved configuration.
  const parsedUci = parseUci(uciText(server.network));
  if (!('sections' in parsedUci)) return t.fail(`parseUci: ${JSON.stringify(parsedUci.errors)}`);
  const translated = translateWgtsInterface(parsedUci.sections, 'wg0');
  if (!('config' in translated)) return t.fail(`translateWgtsInterface: ${JSON.stringify(translated.errors)}`);
  t.equal(b64(translated.config.privateKey), generatedPrivate, 'wgts --netifd would use the generated key');
  t.same(translated.config.peers.map((p) => [p.description, b64(p.publicKey), p.routeAllowedIps]), [
    ['laptop', LAPTOP.publicKey, false],
    ['phone', peerPublic, true],
  ], 'and both peers');
  t.same(errors, [], 'no page errors');
});
