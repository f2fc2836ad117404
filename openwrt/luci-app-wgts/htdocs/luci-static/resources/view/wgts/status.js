'use strict';
'require view';
'require rpc';
'require uci';
'require poll';
'require dom';
'require wgts.lib as wgtslib';

// Status → wgts: every proto 'wgts' interface of /etc/config/network with its
// peers, from each daemon's ubus object wgts.<ifname> (method status; the
// ACL grants nothing else), refreshed by LuCI's poll loop, with a small
// traffic graph per peer drawn from the byte counters seen since the page
// was opened.

var POINTS = 30;

var statusCalls = {};

function callStatus(ifname) {
	if (!statusCalls[ifname])
		statusCalls[ifname] = rpc.declare({ object: 'wgts.' + ifname, method: 'status', expect: { interfaces: {} } });
	return statusCalls[ifname]().then(function(interfaces) {
		return interfaces[ifname] || null;
	}, function(err) {
		return { error: String((err && err.message) || err) };
	});
}

// Text from the router goes in as arrays: LuCI's E() reads a lone string
// child as HTML.

// Per peer: byte counters at each poll, to draw rates.
var history = {};

function record(ifname, peer, nowSeconds) {
	var id = ifname + ' ' + peer.public_key, h = history[id];
	if (!h)
		h = history[id] = { last: null, rx: [], tx: [] };
	if (h.last && nowSeconds > h.last.t) {
		var dt = nowSeconds - h.last.t;
		h.rx.push(Math.max(0, peer.transfer_rx - h.last.rx) / dt);
		h.tx.push(Math.max(0, peer.transfer_tx - h.last.tx) / dt);
		if (h.rx.length > POINTS) { h.rx.shift(); h.tx.shift(); }
	}
	h.last = { t: nowSeconds, rx: peer.transfer_rx, tx: peer.transfer_tx };
	return h;
}

function polyline(values, max, width, height, color) {
	var step = width / (POINTS - 1), offset = (POINTS - values.length) * step, points = [];
	for (var i = 0; i < values.length; i++)
		points.push((offset + i * step).toFixed(1) + ',' + (height - 1 - (values[i] / max) * (height - 2)).toFixed(1));
	return '<polyline fill="none" stroke="' + color + '" stroke-width="1.5" points="' + points.join(' ') + '"/>';
}

// Received in blue, sent in orange, both on the same scale.
function trafficGraph(h) {
	var width = 120, height = 32, max = 1;
	h.rx.concat(h.tx).forEach(function(v) { if (v > max) max = v; });
	var rxRate = h.rx.length ? h.rx[h.rx.length - 1] : 0, txRate = h.tx.length ? h.tx[h.tx.length - 1] : 0;
	var graph = E('span', {
		'class': 'wgts-graph',
		'title': _('received %s, sent %s').format(wgtslib.formatRate(rxRate), wgtslib.formatRate(txRate)),
		'data-points': String(h.rx.length)
	});
	graph.innerHTML = '<svg xmlns="http://www.w3.org/2000/svg" width="' + width + '" height="' + height + '" viewBox="0 0 ' + width + ' ' + height + '">' +
		'<rect x="0.5" y="0.5" width="' + (width - 1) + '" height="' + (height - 1) + '" fill="none" stroke="#ccc"/>' +
		polyline(h.rx, max, width, height, '#2a6ebb') + polyline(h.tx, max, width, height, '#e8871e') + '</svg>';
	return E('div', {}, [ graph, E('div', { 'class': 'wgts-rate', 'style': 'font-size:90%' },
		[ '↓ %s  ↑ %s'.format(wgtslib.formatRate(rxRate), wgtslib.formatRate(txRate)) ]) ]);
}

function shortKey(key) {
	return key.length > 12 ? key.substr(0, 6) + '…' + key.substr(-6) : key;
}

function renderPeers(ifname, peers, nowSeconds) {
	var rows = peers.map(function(peer) {
		var h = record(ifname, peer, nowSeconds);
		return E('tr', { 'class': 'tr wgts-peer', 'data-public-key': peer.public_key }, [
			E('td', { 'class': 'td', 'data-title': _('Peer') }, [
				E('strong', {}, [ peer.description || _('Untitled peer') ]), E('br'),
				E('code', { 'title': peer.public_key }, [ shortKey(peer.public_key) ])
			]),
			E('td', { 'class': 'td wgts-endpoint', 'data-title': _('Endpoint') }, [ peer.endpoint || _('none yet') ]),
			E('td', { 'class': 'td wgts-allowed-ips', 'data-title': _('Allowed IPs') }, [ (peer.allowed_ips || []).join(', ') || '-' ]),
			E('td', { 'class': 'td wgts-handshake', 'data-title': _('Latest handshake') }, [ wgtslib.formatAgo(peer.latest_handshake, nowSeconds) ]),
			E('td', { 'class': 'td wgts-rx', 'data-title': _('Received') }, [ wgtslib.formatBytes(peer.transfer_rx) ]),
			E('td', { 'class': 'td wgts-tx', 'data-title': _('Sent') }, [ wgtslib.formatBytes(peer.transfer_tx) ]),
			E('td', { 'class': 'td', 'data-title': _('Traffic') }, trafficGraph(h))
		]);
	});
	return E('table', { 'class': 'table wgts-peers' }, [
		E('tr', { 'class': 'tr table-titles' }, [
			E('th', { 'class': 'th' }, _('Peer')),
			E('th', { 'class': 'th' }, _('Endpoint')),
			E('th', { 'class': 'th' }, _('Allowed IPs')),
			E('th', { 'class': 'th' }, _('Latest handshake')),
			E('th', { 'class': 'th' }, _('Received')),
			E('th', { 'class': 'th' }, _('Sent')),
			E('th', { 'class': 'th' }, _('Traffic'))
		])
	].concat(rows.length ? rows : [ E('tr', { 'class': 'tr placeholder' }, E('td', { 'class': 'td' }, E('em', {}, _('No peers configured.')))) ]));
}

function renderInterface(ifname, status, nowSeconds) {
	var body;
	if (status == null || status.error) {
		body = E('p', { 'class': 'alert-message warning wgts-down', 'title': status ? status.error : '' },
			[ _('The wgts daemon for %s is not running: ubus has no object wgts.%s (is the interface up?).').format(ifname, ifname) ]);
	}
	else {
		body = E('div', {}, [
			E('p', {}, [
				_('Public key'), ': ', E('code', { 'style': 'user-select:all' }, [ status.public_key || '-' ]), ' · ',
				_('Listen port'), ': ', String(status.listen_port || '-'),
				status.fwmark ? ' · ' + _('Firewall mark') + ': 0x' + Number(status.fwmark).toString(16) : ''
			]),
			renderPeers(ifname, status.peers || [], nowSeconds)
		]);
	}
	return E('div', { 'class': 'cbi-section wgts-interface', 'data-interface': ifname }, [ E('h3', {}, [ ifname ]), body ]);
}

return view.extend({
	load: function() {
		return uci.load('network').then(function() {
			var names = uci.sections('network', 'interface').filter(function(s) {
				return s.proto == 'wgts';
			}).map(function(s) { return s['.name']; });
			return Promise.all(names.map(callStatus)).then(function(states) {
				return names.map(function(name, i) { return { name: name, status: states[i] }; });
			});
		});
	},

	renderAll: function(data) {
		var now = Date.now() / 1000;
		if (data.length == 0)
			return E('p', {}, E('em', {}, _('No interface uses proto "wgts" yet (Network → Interfaces → Add new interface → WireGuard VPN (wgts)).')));
		return E('div', {}, data.map(function(d) { return renderInterface(d.name, d.status, now); }));
	},

	render: function(data) {
		var container = E('div', { 'id': 'wgts-status' }, this.renderAll(data));

		poll.add(L.bind(function() {
			return L.resolveDefault(uci.unload('network')).then(L.bind(this.load, this)).then(L.bind(function(fresh) {
				dom.content(container, this.renderAll(fresh));
			}, this));
		}, this), 5);

		return E('div', { 'class': 'cbi-map' }, [
			E('h2', {}, _('wgts: WireGuard status')),
			E('div', { 'class': 'cbi-map-descr' }, _('Interfaces and peers of the wgts daemons; updated every 5 seconds.')),
			container
		]);
	},

	handleSave: null,
	handleSaveApply: null,
	handleReset: null
});
