// Opens one wgts page the way LuCI would (stand-in, see luci.js):
//   /harness/index.html?page=status           Status → wgts (view/wgts/status.js)
//   /harness/index.html?page=interface&if=wg0  the interface form, as network/interfaces.js
//                                              builds it around protocol/wgts.js
'use strict';
(function() {
	var params = new URLSearchParams(window.location.search);
	var page = params.get('page');
	var crumb = document.getElementById('crumb');

	function openInterface(ifname) {
		crumb.textContent = 'Network » Interfaces » ' + ifname;
		return Promise.all([ L.require('protocol.wgts'), L.uci.load('network') ]).then(function() {
			var form = L.form, proto = L.network.getProtocol('wgts', ifname);
			var m = new form.Map('network', _('Interfaces') + ' » ' + ifname);
			var s = m.section(form.NamedSection, ifname, 'interface');
			s.tab('general', _('General Settings'));
			s.tab('advanced', _('Advanced Settings'));
			var o = s.taboption('general', form.ListValue, 'proto', _('Protocol'));
			o.value('wgts', proto.getI18n());
			proto.renderFormOptions(s);
			window.harness.map = m;
			window.harness.protocol = proto;
			return m.render().then(function(node) {
				var vp = document.getElementById('view');
				L.dom.content(vp, [ node, E('div', { 'class': 'cbi-page-actions' }, [
					E('button', { 'class': 'cbi-button cbi-button-save', 'id': 'harness-save', 'click': function() {
						window.harness.saves++;
						return m.save().then(function() { window.harness.saved++; }, function(e) { window.harness.lastError = String(e && e.message); });
					} }, _('Save'))
				]) ]);
			});
		});
	}

	function openStatus() {
		crumb.textContent = 'Status » wgts';
		return L.require('view.wgts.status').then(function(v) { return v.ready; });
	}

	window.harness = { saves: 0, saved: 0, lastError: null };
	window.harness.ready = (page == 'status' ? openStatus() : openInterface(params.get('if') || 'wg0')).then(function() {
		document.body.setAttribute('data-ready', 'true');
	}, function(e) {
		document.body.setAttribute('data-ready', 'error');
		window.harness.bootError = String(e && e.stack || e);
		console.error(e);
	});
})();
