'use strict';
'require ui';
'require uci';
'require form';
'require network';
'require wgts.lib as wgtslib';

// Network → Interfaces form for proto 'wgts'. The options are those of the
// kernel 'wireguard' proto (peers in 'wireguard_<ifname>' sections), checked
// with the daemon's own rules (wgts/lib.js). Keys are made in this page with
// crypto.getRandomValues and X25519: only saving the form sends them on.

function randomBytes(out) {
	window.crypto.getRandomValues(out);
}

// LuCI calls validate() with one value (one item for a DynamicList);
// emptiness is left to rmempty/optional.
function check(fn, arg) {
	return function(section_id, value) {
		if (value == null || value === '')
			return true;
		return fn(String(value), arg);
	};
}

function listOf(value) {
	if (Array.isArray(value))
		return value;
	return (value == null || value === '') ? [] : String(value).split(/[\s,]+/).filter(function(v) { return v !== ''; });
}

// A button in the form that is no option of its own (writes nothing).
var ActionButton = form.DummyValue.extend({
	cfgvalue: function(section_id) {
		return E('button', {
			'class': 'cbi-button cbi-button-action',
			'type': 'button',
			'click': ui.createHandlerFn(this, this.onclick, section_id)
		}, [ this.inputtitle ]);
	}
});

function setPublicKeyText(section_id, text) {
	var el = document.getElementById('wgts-pubkey-' + section_id);
	if (el)
		el.textContent = text;
}

// Client configuration for one peer: QR code, text and download, made from
// the values in the open peer form and this interface's key and port.
var ClientExport = form.DummyValue.extend({
	cfgvalue: function(section_id) {
		var host = E('input', { 'class': 'cbi-input-text', 'type': 'text', 'name': 'wgts-export-host', 'value': window.location.hostname, 'placeholder': 'vpn.example.org' });
		var allowed = E('input', { 'class': 'cbi-input-text', 'type': 'text', 'name': 'wgts-export-allowed', 'value': '0.0.0.0/0, ::/0' });
		var dns = E('input', { 'class': 'cbi-input-text', 'type': 'text', 'name': 'wgts-export-dns', 'value': '', 'placeholder': _('optional, e.g. 10.0.0.1') });
		var output = E('div', { 'class': 'wgts-export-output' });

		var show = ui.createHandlerFn(this, function() {
			this.renderExport(section_id, host.value.trim(), allowed.value, dns.value, output);
		});

		return E('div', { 'class': 'wgts-export' }, [
			E('div', { 'class': 'cbi-value-description' }, _('For the WireGuard app on a phone or laptop: scan the QR code or download the file. It contains this peer\'s private key; it is made in this browser and sent nowhere.')),
			E('label', {}, [ _('Endpoint host (how the client reaches this router)'), E('br'), host ]), E('br'),
			E('label', {}, [ _('Allowed IPs on the client (what it sends through the tunnel)'), E('br'), allowed ]), E('br'),
			E('label', {}, [ _('DNS servers for the client'), E('br'), dns ]), E('br'),
			E('button', { 'class': 'cbi-button cbi-button-apply', 'type': 'button', 'click': show }, [ _('Show QR code and configuration') ]),
			output
		]);
	},

	renderExport: function(section_id, endpointHost, allowedText, dnsText, output) {
		var ss = this.section,
		    ifname = this.wgtsInterface,
		    parent = this.wgtsInterfaceSection,
		    clientKey = ss.formvalue(section_id, 'private_key') || '',
		    serverKey = parent.formvalue(ifname, 'private_key') || uci.get('network', ifname, 'private_key') || '',
		    psk = ss.formvalue(section_id, 'preshared_key') || '',
		    port = parent.formvalue(ifname, 'listen_port') || uci.get('network', ifname, 'listen_port') || '',
		    keepalive = ss.formvalue(section_id, 'persistent_keepalive') || '',
		    description = ss.formvalue(section_id, 'description') || '',
		    problems = [];

		var serverPub = wgtslib.publicKeyOf(serverKey);
		if (wgtslib.checkKey(clientKey) !== true)
			problems.push(_('This peer has no valid private key here. Press "Generate key pair" above (the client will use it) or paste the client\'s private key.'));
		if (serverPub == null)
			problems.push(_('This interface has no valid private key yet (General Settings).'));
		if (!(+port >= 1 && +port <= 65535))
			problems.push(_('Set a listen port on this interface: the client needs a fixed port to reach.'));
		if (endpointHost === '' || wgtslib.checkEndpointHost(endpointHost) !== true)
			problems.push(_('The endpoint host must be a host name or an IP address.'));
		var allowedIps = listOf(allowedText);
		allowedIps.forEach(function(cidr) {
			var verdict = wgtslib.checkAllowedIp(cidr);
			if (verdict !== true) problems.push(verdict);
		});
		var dns = listOf(dnsText);
		dns.forEach(function(ip) {
			if (wgtslib.checkEndpointHost(ip) !== true) problems.push(_('"%s" is not a DNS server address').format(ip));
		});
		if (psk !== '' && wgtslib.checkKey(psk) !== true)
			problems.push(_('The preshared key is not valid.'));

		if (problems.length > 0) {
			output.replaceChildren(E('div', { 'class': 'alert-message warning wgts-export-problems' },
				problems.map(function(p) { return E('p', {}, [ p ]); })));
			return;
		}

		var text = wgtslib.clientConfig({
			clientPrivateKey: clientKey,
			addresses: wgtslib.clientAddresses(listOf(ss.formvalue(section_id, 'allowed_ips'))),
			dns: dns,
			serverPublicKey: serverPub,
			presharedKey: psk || null,
			allowedIps: allowedIps.length ? allowedIps : [ '0.0.0.0/0', '::/0' ],
			endpointHost: endpointHost,
			endpointPort: +port,
			persistentKeepalive: +keepalive || 0
		});
		var fileName = wgtslib.clientConfigFileName(description, ifname + '-peer');
		var qr = E('div', { 'class': 'wgts-qr', 'style': 'background:#fff;width:260px;max-width:100%;padding:0;line-height:0' });
		qr.innerHTML = wgtslib.qrSvg(text);
		var svg = qr.querySelector('svg');
		if (svg)
			svg.setAttribute('style', 'width:100%;height:auto;display:block;fill:#000;shape-rendering:crispEdges');

		var href = URL.createObjectURL(new Blob([ text ], { type: 'text/plain' }));
		output.replaceChildren(
			qr,
			E('p', {}, E('a', { 'class': 'cbi-button wgts-download', 'href': href, 'download': fileName }, [ _('Download %s').format(fileName) ])),
			E('pre', { 'class': 'wgts-config-text', 'style': 'white-space:pre-wrap;word-break:break-all' }, [ text ])
		);
	}
});

return network.registerProtocol('wgts', {
	getI18n: function() {
		return _('WireGuard VPN (wgts)');
	},

	getIfname: function() {
		return this._ubus('l3_device') || this.sid;
	},

	getOpkgPackage: function() {
		return 'wgts';
	},

	getPackageName: function() {
		return 'wgts';
	},

	isFloating: function() {
		return true;
	},

	isVirtual: function() {
		return true;
	},

	getDevices: function() {
		return null;
	},

	containsDevice: function(ifname) {
		return (network.getIfnameOf(ifname) == this.getIfname());
	},

	renderFormOptions: function(s) {
		var ifname = s.section, o, ss;

		// -- general --------------------------------------------------------------

		o = s.taboption('general', form.Value, 'private_key', _('Private Key'),
			_('Required. This interface\'s key, base64 as from <code>wg genkey</code>.'));
		o.password = true;
		o.rmempty = false;
		o.validate = function(section_id, value) {
			if (value == null || value === '')
				return _('A private key is required: press "Generate key pair" or paste one.');
			var verdict = wgtslib.checkKey(String(value));
			// The shown public key follows what is typed.
			setPublicKeyText(section_id, verdict === true ? wgtslib.publicKeyOf(String(value)) : '-');
			return verdict;
		};

		o = s.taboption('general', form.DummyValue, '_public_key', _('Public Key'),
			_('Give this to the peers; it is derived from the private key.'));
		o.cfgvalue = function(section_id) {
			var key = uci.get('network', section_id, 'private_key');
			return E('code', { 'id': 'wgts-pubkey-' + section_id, 'style': 'user-select:all' },
				[ (key && wgtslib.publicKeyOf(key)) || '-' ]);
		};

		o = s.taboption('general', ActionButton, '_generate_key', ' ');
		o.inputtitle = _('Generate key pair');
		o.onclick = function(section_id) {
			var pair = wgtslib.generateKeyPair(randomBytes);
			this.section.getUIElement(section_id, 'private_key').setValue(pair.privateKey);
			setPublicKeyText(section_id, pair.publicKey);
		};

		o = s.taboption('general', form.Value, 'listen_port', _('Listen Port'),
			_('UDP port for the tunnel; empty means a random port (peers then cannot reach this router first).'));
		o.placeholder = _('random');
		o.optional = true;
		o.validate = check(wgtslib.checkPort, true);

		o = s.taboption('general', form.DynamicList, 'addresses', _('IP Addresses'),
			_('Addresses of this interface with prefix length, e.g. 10.0.0.1/24 and fd00::1/64.'));
		o.optional = true;
		o.validate = check(wgtslib.checkInterfaceAddress);

		// -- advanced -------------------------------------------------------------

		o = s.taboption('advanced', form.Value, 'mtu', _('MTU'),
			_('Optional. Default 1420.'));
		o.placeholder = '1420';
		o.optional = true;
		o.validate = check(wgtslib.checkMtu);

		o = s.taboption('advanced', form.Value, 'fwmark', _('Firewall Mark'),
			_('Optional. 32-bit mark for the encrypted packets, decimal or hex (<code>0x…</code>).'));
		o.optional = true;
		o.validate = check(wgtslib.checkFwmark);

		// -- peers ----------------------------------------------------------------

		try {
			s.tab('peers', _('Peers'));
		}
		catch (e) {}

		o = s.taboption('peers', form.SectionValue, '_peers', form.GridSection, 'wireguard_%s'.format(ifname));
		o.depends('proto', 'wgts');

		ss = o.subsection;
		ss.anonymous = true;
		ss.addremove = true;
		ss.addbtntitle = _('Add peer');
		ss.nodescriptions = true;
		ss.modaltitle = _('Edit peer');
		ss.renderSectionPlaceholder = function() {
			return E('em', _('No peers yet.'));
		};

		o = ss.option(form.Flag, 'disabled', _('Disabled'), _('Keep the peer in the configuration without using it.'));
		o.editable = true;
		o.optional = true;

		o = ss.option(form.Value, 'description', _('Description'), _('A name for the peer, shown on the status page.'));
		o.placeholder = _('phone');
		o.optional = true;

		o = ss.option(form.Value, 'public_key', _('Public Key'), _('Required. The peer\'s public key.'));
		o.rmempty = false;
		o.validate = function(section_id, value) {
			if (value == null || value === '')
				return _('The peer\'s public key is required.');
			return wgtslib.checkKey(String(value));
		};
		o.textvalue = function(section_id) {
			var key = this.cfgvalue(section_id) || '';
			// Grid cells take HTML.
			return '%h'.format(key.length > 12 ? key.substr(0, 6) + '…' + key.substr(-6) : key);
		};

		o = ss.option(form.Value, 'private_key', _('Private Key'),
			_('Optional. The peer\'s own private key, kept here only to export its configuration below.'));
		o.modalonly = true;
		o.password = true;
		o.optional = true;
		o.validate = check(wgtslib.checkKey);

		o = ss.option(ActionButton, '_generate_peer_key', ' ');
		o.modalonly = true;
		o.inputtitle = _('Generate key pair');
		o.onclick = function(section_id) {
			var pair = wgtslib.generateKeyPair(randomBytes);
			this.section.getUIElement(section_id, 'private_key').setValue(pair.privateKey);
			this.section.getUIElement(section_id, 'public_key').setValue(pair.publicKey);
		};

		o = ss.option(form.Value, 'preshared_key', _('Preshared Key'), _('Optional. An extra symmetric key shared with this peer.'));
		o.modalonly = true;
		o.password = true;
		o.optional = true;
		o.validate = check(wgtslib.checkKey);

		o = ss.option(ActionButton, '_generate_psk', ' ');
		o.modalonly = true;
		o.inputtitle = _('Generate preshared key');
		o.onclick = function(section_id) {
			this.section.getUIElement(section_id, 'preshared_key').setValue(wgtslib.generatePsk(randomBytes));
		};

		o = ss.option(form.DynamicList, 'allowed_ips', _('Allowed IPs'),
			_('Addresses and networks this peer may use inside the tunnel, e.g. 10.0.0.2/32.'));
		o.optional = true;
		o.validate = check(wgtslib.checkAllowedIp);

		o = ss.option(form.Flag, 'route_allowed_ips', _('Route Allowed IPs'), _('Add routes for the allowed IPs through this interface.'));
		o.modalonly = true;
		o.optional = true;

		o = ss.option(form.Value, 'endpoint_host', _('Endpoint Host'), _('Optional. The peer\'s host name or IP address.'));
		o.placeholder = 'vpn.example.org';
		o.optional = true;
		o.validate = check(wgtslib.checkEndpointHost);
		o.textvalue = function(section_id) {
			var host = this.cfgvalue(section_id);
			if (!host)
				return '-';
			return '%h'.format(wgtslib.formatEndpointHostPort(host, +(uci.get('network', section_id, 'endpoint_port') || 51820)));
		};

		o = ss.option(form.Value, 'endpoint_port', _('Endpoint Port'), _('Optional. Default 51820.'));
		o.modalonly = true;
		o.placeholder = '51820';
		o.optional = true;
		o.validate = check(wgtslib.checkPort, false);

		o = ss.option(form.Value, 'persistent_keepalive', _('Persistent Keepalive'),
			_('Optional. Seconds between keepalives; 25 keeps a NAT mapping open. 0 = off.'));
		o.modalonly = true;
		o.placeholder = '0';
		o.optional = true;
		o.validate = check(wgtslib.checkKeepalive);

		o = ss.option(ClientExport, '_client_config', _('Client configuration'));
		o.modalonly = true;
		o.wgtsInterface = ifname;
		o.wgtsInterfaceSection = s;
	},

	deleteConfiguration: function() {
		uci.sections('network', 'wireguard_%s'.format(this.sid), function(s) {
			uci.remove('network', s['.name']);
		});
	}
});
