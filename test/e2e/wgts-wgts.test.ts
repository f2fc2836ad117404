// The wgts executable on both ends of a tunnel, each in its own network
// namespace: the same basics as against wireguard-go.
import t from 'tap';
import { basics, keepalive } from '../helpers/e2e-basics.js';
import { requireInterop } from '../helpers/netns.js';
import { wgtsBinary } from '../helpers/wgts-binary.js';

if (requireInterop(t)) {
  await wgtsBinary();
  t.jobs = 2;
  void basics(t, { name: 'initiator over IPv4 outside, with PSK', left: 'wgts', right: 'wgts', outer: 4, initiator: 'left', psk: true });
  void basics(t, { name: 'initiator over IPv6 outside, no PSK', left: 'wgts', right: 'wgts', outer: 6, initiator: 'right', psk: false });
  void keepalive(t, { name: 'persistent keepalive (IPv4 outside)', left: 'wgts', right: 'wgts', outer: 4, sender: 'right' });
}
