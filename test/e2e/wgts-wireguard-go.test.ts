// The wgts executable against wireguard-go, each in its own network
// namespace, configured with `wg`: handshakes started by either side, IPv4
// and IPv6 inside and outside, full-MTU packets, PSK, persistent keepalive.
import t from 'tap';
import { basics, keepalive } from '../helpers/e2e-basics.js';
import { requireInterop } from '../helpers/netns.js';
import { wgtsBinary } from '../helpers/wgts-binary.js';

if (requireInterop(t)) {
  await wgtsBinary();
  t.jobs = 2;
  void basics(t, { name: 'wgts initiates over IPv4 outside, with PSK', left: 'wgts', right: 'wireguard-go', outer: 4, initiator: 'left', psk: true });
  void basics(t, { name: 'wireguard-go initiates over IPv6 outside, with PSK', left: 'wgts', right: 'wireguard-go', outer: 6, initiator: 'right', psk: true });
  void basics(t, { name: 'wgts initiates over IPv6 outside, no PSK', left: 'wgts', right: 'wireguard-go', outer: 6, initiator: 'left', psk: false });
  void basics(t, { name: 'wireguard-go initiates over IPv4 outside, no PSK', left: 'wgts', right: 'wireguard-go', outer: 4, initiator: 'right', psk: false });
  void keepalive(t, { name: 'persistent keepalive from wgts (IPv6 outside)', left: 'wgts', right: 'wireguard-go', outer: 6, sender: 'left' });
  void keepalive(t, { name: 'persistent keepalive from wireguard-go to wgts (IPv4 outside)', left: 'wgts', right: 'wireguard-go', outer: 4, sender: 'right' });
}
