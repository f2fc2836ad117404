// A STAND-IN FOR LuCI, for tests only. No package registry ships LuCI's
// client side (luci-base's luci.js, form.js, ui.js, uci.js, rpc.js), so this
// file provides the parts of its API that the wgts views use, written for
// these tests after LuCI's documentation and behaviour (openwrt/luci,
// modules/luci-base/htdocs/luci-static/resources):
//
// - class files load as in luci.js: fetched from L.env.base_url, 'require x'
//   and 'require x as y' strings at the top become arguments of a factory
//   function (window, document, L, deps...), whose returned class is
//   instantiated once;
// - rpc.declare posts JSON-RPC 2.0 "call" requests [sid, object, method, args]
//   to /ubus/ and applies `expect` as rpc.js does;
// - uci keeps values, creates, changes and deletes like uci.js; save() sends
//   uci add / set / delete and reloads;
// - form: Map, NamedSection, TypedSection, GridSection (edit modal with cloned
//   options; the grid parses only editable columns), SectionValue, Value,
//   DynamicList, Flag, ListValue, DummyValue; an option is active only when
//   rendered and its dependencies hold; parse() writes changed values,
//   removes empty optional ones and rejects invalid input with LuCI's
//   messages; Map.save shows a "Save error" modal on failure;
// - ui widgets validate on keyup/blur with the option's validate(), mark
//   invalid input with cbi-input-invalid and show the message beside it;
// - poll runs registered functions every N seconds of a 1 s tick.
//
// It is not LuCI: styling, i18n, tooltips, drag and drop, reordering and
// everything the views do not touch are left out.
'use strict';

(function() {
	// ------------------------------------------------------------- helpers --

	function escapeHTML(s) {
		return String(s).replace(/[&<>"']/g, function(c) { return '&#' + c.charCodeAt(0) + ';'; });
	}

	// LuCI's String.prototype.format: %s %d %h %q %x %%.
	String.prototype.format = function() {
		var args = arguments, i = 0;
		return this.replace(/%(-?\d*)([sdhqx%])/g, function(m, pad, type) {
			if (type == '%') return '%';
			var v = args[i++];
			switch (type) {
			case 'd': return String(parseInt(v, 10) || 0);
			case 'x': return (parseInt(v, 10) || 0).toString(16);
			case 'h': return escapeHTML(v == null ? '' : v);
			case 'q': return escapeHTML(v == null ? '' : v).replace(/"/g, '&#34;');
			default: return (v == null) ? '' : String(v);
			}
		});
	};

	window._ = function(s) { return s; };

	function isObject(v) { return v != null && typeof v == 'object'; }

	// ------------------------------------------------------------- classes --

	var classIndex = 0;

	function Class() {}
	Class.extend = function(properties) {
		var Parent = this;
		var Sub = function() {
			if (typeof this.__init__ == 'function')
				this.__init__.apply(this, arguments);
		};
		Sub.prototype = Object.create(Parent.prototype);
		for (var key in properties)
			if (Object.prototype.hasOwnProperty.call(properties, key) || key in properties)
				Sub.prototype[key] = properties[key];
		Sub.prototype.constructor = Sub;
		Sub.prototype.__base__ = Parent.prototype;
		Sub.extend = Class.extend;
		Sub.instantiate = function(args) { var o = Object.create(Sub.prototype); Sub.apply(o, args); return o; };
		Sub.isSubclass = function(c) { return c != null && c.prototype instanceof Sub; };
		Sub.__id__ = classIndex++;
		return Sub;
	};
	Class.isSubclass = function(c) { return typeof c == 'function' && (c === Class || c.prototype instanceof Class); };
	Class.prototype.super = function(key, args) {
		// Walks up from the class that defines the running method (enough here).
		var proto = Object.getPrototypeOf(Object.getPrototypeOf(this));
		while (proto && !Object.prototype.hasOwnProperty.call(proto, key)) proto = Object.getPrototypeOf(proto);
		var parent = proto ? Object.getPrototypeOf(proto) : null;
		return parent && parent[key] ? parent[key].apply(this, args || []) : undefined;
	};
	Class.prototype.varargs = function(args, offset) {
		return Array.prototype.slice.call(args, offset).concat(Array.prototype.slice.call(arguments, 2));
	};

	// ---------------------------------------------------------------- DOM --

	// As LuCI's dom.append: nodes are appended, the items of an array become
	// text (a null item the text "null", a nested array its joined text, as
	// there), and a lone string child is parsed as HTML (views escape with %h).
	function appendChildren(node, children, lenient) {
		if (children == null) return;
		if (Array.isArray(children)) {
			children.forEach(function(c) {
				if (c instanceof Node) node.appendChild(c);
				else if (lenient && c == null) return;
				else if (lenient && Array.isArray(c)) appendChildren(node, c, true);
				else node.appendChild(document.createTextNode('' + c));
			});
			return;
		}
		if (typeof children == 'function') { appendChildren(node, children(node), lenient); return; }
		if (children instanceof Node) { node.appendChild(children); return; }
		node.innerHTML = '' + children;
	}

	function createElement(tag, attrs, children, lenient) {
		var node;
		if (Array.isArray(tag)) {
			node = document.createDocumentFragment();
			appendChildren(node, tag, lenient);
			return node;
		}
		if (tag.charAt(0) == '<') {
			var tpl = document.createElement('template');
			tpl.innerHTML = tag.trim();
			node = tpl.content.firstElementChild;
		}
		else {
			node = document.createElement(tag);
		}
		if (!isObject(attrs) || Array.isArray(attrs) || attrs instanceof Node) {
			children = attrs;
			attrs = null;
		}
		for (var key in attrs) {
			var v = attrs[key];
			if (v == null || v === false) continue;
			if (typeof v == 'function') node.addEventListener(key, v);
			else if (isObject(v)) node.setAttribute(key, JSON.stringify(v));
			else node.setAttribute(key, v === true ? '' : String(v));
		}
		appendChildren(node, children, lenient);
		return node;
	}

	// The views get LuCI's E(); this file's own markup skips null items for brevity.
	function E(tag, attrs, children) { return createElement(tag, attrs, children, true); }
	window.E = function(tag, attrs, children) { return createElement(tag, attrs, children, false); };

	var dom = Class.extend({
		content: function(node, children) {
			while (node.firstChild) node.removeChild(node.firstChild);
			appendChildren(node, children);
			return node;
		},
		append: function(node, children) { appendChildren(node, children); return node; },
		create: E,
		elem: function(e) { return e instanceof Node; },
		bindClassInstance: function(node, inst) { node.__luciClass = inst; },
		findClassInstance: function(node) {
			for (; node; node = node.parentNode) if (node.__luciClass) return node.__luciClass;
			return null;
		},
		matches: function(node, sel) { return node && node.matches ? node.matches(sel) : false; }
	});
	var domInstance = new dom();

	// --------------------------------------------------------------- L ------

	var classes = {};

	var L = {
		env: { base_url: '/luci-static/resources', rpcBaseURL: '/ubus/', sessionid: 'harness-session', pollinterval: 5 },
		Class: Class,
		dom: domInstance,
		isObject: isObject,
		bind: function(fn, self) { var extra = Array.prototype.slice.call(arguments, 2); return function() { return fn.apply(self, extra.concat(Array.prototype.slice.call(arguments))); }; },
		resolveDefault: function(value, def) { return Promise.resolve(value).catch(function() { return def; }); },
		toArray: function(v) {
			if (v == null) return [];
			if (Array.isArray(v)) return v;
			var s = String(v).trim();
			return s == '' ? [] : s.split(/\s+/);
		},
		error: function(type, msg) { var e = new Error(msg); e.name = type; throw e; },
		raise: function(type, msg) { var e = new Error(msg); e.name = type; throw e; },
		// luci.js's class loader.
		require: function(name) {
			if (classes[name]) return Promise.resolve(classes[name]);
			var url = L.env.base_url + '/' + name.replace(/\./g, '/') + '.js';
			classes[name] = fetch(url).then(function(res) {
				if (!res.ok) throw new Error('HTTP error ' + res.status + ' while loading class file "' + url + '"');
				return res.text();
			}).then(function(source) {
				var deps = [], args = '';
				// Leading string statements: 'use strict' and 'require ...'.
				var re = /^\s*(?:\/\/[^\n]*\n\s*)*(['"])(.*?)\1;?/, rest = source, m;
				while ((m = re.exec(rest)) !== null) {
					var req = /^require[ \t]+(\S+)(?:[ \t]+as[ \t]+([a-zA-Z_]\S*))?$/.exec(m[2]);
					if (req) {
						deps.push(L.require(req[1]));
						args += ', ' + (req[2] || req[1].replace(/[^a-zA-Z0-9_]/g, '_'));
					}
					else if (!/^use[ \t]+strict$/.test(m[2])) break;
					rest = rest.slice(m[0].length);
				}
				return Promise.all(deps).then(function(instances) {
					var factory = (0, eval)('(function(window, document, L' + args + ') { ' + source + '\n})\n//# sourceURL=' + url);
					var cls = factory.apply(factory, [ window, document, L ].concat(instances));
					if (typeof cls != 'function') throw new TypeError('"' + name + '" factory yields invalid constructor');
					var instance = new cls();
					classes[name] = instance;
					return instance;
				});
			});
			return classes[name];
		}
	};
	window.L = L;

	function define(name, instance) { classes[name] = instance; L[name] = instance; }

	define('baseclass', Class);
	define('dom', domInstance);

	// ---------------------------------------------------------------- rpc --

	var rpcErrors = { 1: 'Invalid command', 2: 'Invalid argument', 3: 'Method not found', 4: 'Resource not found', 5: 'No data received', 6: 'Permission denied', 7: 'Request timeout', 8: 'Not supported', 9: 'Unspecified error', 10: 'Connection lost' };
	var rpcId = 1;

	var rpc = Class.extend({
		getSessionID: function() { return L.env.sessionid; },
		declare: function(opts) {
			return function() {
				var args = {}, params = opts.params || [];
				for (var i = 0; i < params.length && i < arguments.length; i++)
					if (arguments[i] !== undefined) args[params[i]] = arguments[i];
				var body = { jsonrpc: '2.0', id: rpcId++, method: 'call', params: [ L.env.sessionid, opts.object, opts.method, args ] };
				return fetch(L.env.rpcBaseURL, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
					.then(function(res) { return res.json(); })
					.then(function(msg) {
						if (msg.error) throw new Error('RPC call to ' + opts.object + '/' + opts.method + ' failed with error ' + msg.error.code + ': ' + msg.error.message);
						if (!Array.isArray(msg.result) || msg.result[0] != 0)
							throw new Error('RPC call to ' + opts.object + '/' + opts.method + ' failed with ubus code ' + (msg.result ? msg.result[0] : '?') + ': ' + (rpcErrors[msg.result && msg.result[0]] || 'Unknown error'));
						var ret = msg.result.length > 1 ? msg.result[1] : null;
						if (opts.expect) {
							for (var key in opts.expect) {
								if (ret != null && key != '') ret = ret[key];
								if (ret == null || typeof ret != typeof opts.expect[key] || Array.isArray(ret) != Array.isArray(opts.expect[key]))
									ret = opts.expect[key];
								break;
							}
						}
						if (typeof opts.filter == 'function') ret = opts.filter(ret, args);
						return ret;
					});
			};
		}
	});
	var rpcInstance = new rpc();
	define('rpc', rpcInstance);

	// ---------------------------------------------------------------- uci --

	var callLoad = rpcInstance.declare({ object: 'uci', method: 'get', params: [ 'config' ], expect: { values: {} } });
	var callAdd = rpcInstance.declare({ object: 'uci', method: 'add', params: [ 'config', 'type', 'name', 'values' ], expect: { section: '' } });
	var callSet = rpcInstance.declare({ object: 'uci', method: 'set', params: [ 'config', 'section', 'values' ] });
	var callDelete = rpcInstance.declare({ object: 'uci', method: 'delete', params: [ 'config', 'section', 'options' ] });

	var uci = Class.extend({
		__init__: function() {
			this.state = { newidx: 0, values: {}, creates: {}, changes: {}, deletes: {}, reorder: {} };
			this.loaded = {};
		},
		createSID: function(conf) {
			var sid;
			do { sid = 'new' + Math.random().toString(16).slice(2, 8); } while (this.get(conf, sid) != null);
			return sid;
		},
		load: function(packages) {
			var self = this, todo = [];
			packages = Array.isArray(packages) ? packages : [ packages ];
			packages.forEach(function(conf) {
				if (!self.loaded[conf])
					todo.push(callLoad(conf).then(function(values) { self.state.values[conf] = values; self.loaded[conf] = true; }));
			});
			return Promise.all(todo).then(function() { return packages; });
		},
		unload: function(packages) {
			var self = this;
			(Array.isArray(packages) ? packages : [ packages ]).forEach(function(conf) {
				delete self.state.values[conf]; delete self.state.creates[conf]; delete self.state.changes[conf];
				delete self.state.deletes[conf]; delete self.state.reorder[conf]; delete self.loaded[conf];
			});
		},
		add: function(conf, type, name) {
			var n = this.state.creates, sid = name || this.createSID(conf);
			if (!n[conf]) n[conf] = {};
			n[conf][sid] = { '.type': type, '.name': sid, '.create': name, '.anonymous': !name, '.index': 1000 + this.state.newidx++ };
			return sid;
		},
		remove: function(conf, sid) {
			var v = this.state.values, n = this.state.creates, c = this.state.changes, d = this.state.deletes;
			if (n[conf] && n[conf][sid]) delete n[conf][sid];
			else if (v[conf] && v[conf][sid]) {
				if (c[conf]) delete c[conf][sid];
				if (!d[conf]) d[conf] = {};
				d[conf][sid] = true;
			}
		},
		sections: function(conf, type, cb) {
			var sa = [], v = this.state.values[conf], n = this.state.creates[conf], c = this.state.changes[conf], d = this.state.deletes[conf];
			if (!v) return sa;
			for (var s in v)
				if (!d || d[s] !== true)
					if (!type || v[s]['.type'] == type) sa.push(Object.assign({}, v[s], c ? c[s] : null));
			if (n)
				for (var s2 in n)
					if (!type || n[s2]['.type'] == type) sa.push(Object.assign({}, n[s2]));
			sa.sort(function(a, b) { return a['.index'] - b['.index']; });
			for (var i = 0; i < sa.length; i++) sa[i]['.index'] = i;
			if (typeof cb == 'function') for (var j = 0; j < sa.length; j++) cb.call(this, sa[j], sa[j]['.name']);
			return sa;
		},
		get: function(conf, sid, opt) {
			var v = this.state.values, n = this.state.creates, c = this.state.changes, d = this.state.deletes;
			if (sid == null) return null;
			if (n[conf] && n[conf][sid]) return (opt == null) ? n[conf][sid] : n[conf][sid][opt];
			if (opt != null) {
				if (d[conf] && d[conf][sid] && (d[conf][sid] === true || d[conf][sid].indexOf(opt) != -1)) return null;
				if (c[conf] && c[conf][sid] && c[conf][sid][opt] != null) return c[conf][sid][opt];
				return (v[conf] && v[conf][sid]) ? v[conf][sid][opt] : null;
			}
			if (!v[conf] || (d[conf] && d[conf][sid] === true)) return null;
			var s = v[conf][sid] ? Object.assign({}, v[conf][sid]) : null;
			if (s && c[conf] && c[conf][sid]) Object.assign(s, c[conf][sid]);
			if (s && d[conf] && Array.isArray(d[conf][sid])) d[conf][sid].forEach(function(o) { delete s[o]; });
			return s;
		},
		set: function(conf, sid, opt, val) {
			var v = this.state.values, n = this.state.creates, c = this.state.changes, d = this.state.deletes;
			if (sid == null || opt == null || opt.charAt(0) == '.') return;
			if (n[conf] && n[conf][sid]) {
				if (val != null) n[conf][sid][opt] = val;
				else delete n[conf][sid][opt];
			}
			else if (val != null && val !== '') {
				if (d[conf] && d[conf][sid] === true) return;
				if (!v[conf] || !v[conf][sid]) return;
				if (!c[conf]) c[conf] = {};
				if (!c[conf][sid]) c[conf][sid] = {};
				if (d[conf] && Array.isArray(d[conf][sid])) {
					d[conf][sid] = d[conf][sid].filter(function(o) { return o !== opt; });
					if (d[conf][sid].length == 0) delete d[conf][sid];
				}
				c[conf][sid][opt] = val;
			}
			else {
				if (!(v[conf] && v[conf][sid] && Object.prototype.hasOwnProperty.call(v[conf][sid], opt)) &&
				    !(c[conf] && c[conf][sid] && Object.prototype.hasOwnProperty.call(c[conf][sid], opt)))
					return;
				if (c[conf] && c[conf][sid]) delete c[conf][sid][opt];
				if (!d[conf]) d[conf] = {};
				if (!d[conf][sid]) d[conf][sid] = [];
				if (d[conf][sid] !== true && d[conf][sid].indexOf(opt) == -1) d[conf][sid].push(opt);
			}
		},
		unset: function(conf, sid, opt) { return this.set(conf, sid, opt, null); },
		save: function() {
			var self = this, n = this.state.creates, c = this.state.changes, d = this.state.deletes, tasks = [], pkgs = {};
			for (var conf in n) {
				for (var sid in n[conf]) {
					var p = { type: null, name: undefined, values: {} };
					for (var k in n[conf][sid]) {
						if (k == '.type') p.type = n[conf][sid][k];
						else if (k == '.create') p.name = n[conf][sid][k];
						else if (k.charAt(0) != '.') p.values[k] = n[conf][sid][k];
					}
					tasks.push(callAdd(conf, p.type, p.name, p.values));
				}
				pkgs[conf] = true;
			}
			for (var conf2 in c) {
				for (var sid2 in c[conf2]) if (Object.keys(c[conf2][sid2]).length) tasks.push(callSet(conf2, sid2, c[conf2][sid2]));
				pkgs[conf2] = true;
			}
			for (var conf3 in d) {
				for (var sid3 in d[conf3]) tasks.push(callDelete(conf3, sid3, d[conf3][sid3] === true ? undefined : d[conf3][sid3]));
				pkgs[conf3] = true;
			}
			return Promise.all(tasks).then(function() {
				var names = Object.keys(pkgs);
				self.unload(names);
				return self.load(names);
			});
		}
	});
	var uciInstance = new uci();
	define('uci', uciInstance);

	// ----------------------------------------------------------------- ui --

	var modalStack = [];

	var ui = Class.extend({
		showModal: function(title, children) {
			var overlay = document.getElementById('modal_overlay');
			var modal = overlay.querySelector('.modal');
			if (modal.firstChild) modalStack.push(Array.prototype.slice.call(modal.childNodes));
			domInstance.content(modal, E([ title ? E('h4', {}, title) : null ].concat(children)));
			document.body.classList.add('modal-overlay-active');
			return modal;
		},
		hideModal: function() {
			var modal = document.getElementById('modal_overlay').querySelector('.modal');
			domInstance.content(modal, []);
			document.body.classList.remove('modal-overlay-active');
		},
		addNotification: function(title, children, cls) {
			var n = E('div', { 'class': 'alert-message ' + (cls || '') }, [ title ? E('h4', {}, title) : null, children ]);
			document.getElementById('maincontent').insertBefore(n, document.getElementById('maincontent').firstChild);
			return n;
		},
		// Calls fn on click with the extra arguments and the event; the button is busy while a promise runs.
		createHandlerFn: function(ctx, fn) {
			var extra = Array.prototype.slice.call(arguments, 2);
			if (typeof fn == 'string') fn = ctx[fn];
			return function(ev) {
				var target = ev.currentTarget;
				var rv = fn.apply(ctx, extra.concat([ ev ]));
				if (rv && typeof rv.then == 'function' && target) {
					target.classList.add('spinning');
					target.disabled = true;
					rv.finally(function() { target.classList.remove('spinning'); target.disabled = false; });
				}
				return rv;
			};
		}
	});
	var uiInstance = new ui();
	define('ui', uiInstance);
	L.ui = uiInstance;

	// Widgets: one element per option and section, found again by its id.
	var AbstractElement = Class.extend({
		__init__: function(value, options) {
			this.value = value;
			this.options = Object.assign({ optional: true }, options);
			this.validState = true;
			this.validError = '';
		},
		getValue: function() { return this.value; },
		setValue: function(v) { this.value = v; },
		isValid: function() { return this.validState !== false; },
		getValidationError: function() { return this.validError; },
		triggerValidation: function() { return this.validate ? this.validate() : true; },
		// Runs the option's validate() on the text of input; marks and explains a failure.
		setupValidation: function(input, textOf, errorHost) {
			var self = this;
			this.validate = function() {
				var text = textOf(), verdict = true;
				if (text === '' || text == null) verdict = (self.options.optional ? true : _('Expecting: %s').format(_('non-empty value')));
				else if (typeof self.options.validate == 'function') verdict = self.options.validate(text);
				var valid = (verdict === true);
				self.validState = valid;
				self.validError = valid ? '' : String(verdict);
				input.classList[valid ? 'remove' : 'add']('cbi-input-invalid');
				var err = errorHost.querySelector(':scope > .cbi-value-error');
				if (!valid) {
					if (!err) { err = E('div', { 'class': 'cbi-value-error' }); errorHost.appendChild(err); }
					err.textContent = self.validError;
				}
				else if (err) err.remove();
				return valid;
			};
			input.addEventListener('keyup', this.validate);
			input.addEventListener('blur', this.validate);
			input.addEventListener('input', this.validate);
		}
	});
	uiInstance.AbstractElement = AbstractElement;

	uiInstance.Textfield = AbstractElement.extend({
		render: function() {
			var input = E('input', { 'id': this.options.id, 'type': this.options.password ? 'password' : 'text', 'class': 'cbi-input-text',
				'name': this.options.name, 'placeholder': this.options.placeholder, 'value': this.value == null ? '' : this.value });
			var node = E('div', { 'class': 'cbi-input-wrap' }, [ input ]);
			if (this.options.password)
				node.appendChild(E('button', { 'class': 'cbi-button cbi-button-neutral', 'type': 'button', 'title': _('Reveal/hide password'),
					'click': function() { input.type = (input.type == 'password') ? 'text' : 'password'; } }, '∗'));
			this.input = input;
			this.setupValidation(input, function() { return input.value; }, node);
			domInstance.bindClassInstance(node, this);
			input.__luciClass = this;
			this.node = node;
			return node;
		},
		getValue: function() { return this.input ? this.input.value : this.value; },
		setValue: function(v) {
			this.value = v;
			if (this.input) {
				this.input.value = v == null ? '' : v;
				this.input.dispatchEvent(new Event('change', { bubbles: true }));
				this.validate();
			}
		}
	});

	uiInstance.Checkbox = AbstractElement.extend({
		render: function() {
			var input = E('input', { 'id': this.options.id, 'type': 'checkbox', 'name': this.options.name });
			input.checked = (this.value == this.options.value_enabled);
			this.input = input;
			input.__luciClass = this;
			var node = E('div', {}, [ input ]);
			domInstance.bindClassInstance(node, this);
			return node;
		},
		isChecked: function() { return this.input.checked; },
		getValue: function() { return this.input.checked ? this.options.value_enabled : this.options.value_disabled; },
		setValue: function(v) { this.input.checked = (v == this.options.value_enabled); }
	});

	uiInstance.Select = AbstractElement.extend({
		render: function() {
			var select = E('select', { 'id': this.options.id, 'class': 'cbi-input-select', 'name': this.options.name });
			var choices = this.options.choices || {};
			for (var k in choices) select.appendChild(E('option', { 'value': k, 'selected': k == this.value ? 'selected' : null }, choices[k]));
			this.input = select;
			select.__luciClass = this;
			var node = E('div', {}, [ select ]);
			domInstance.bindClassInstance(node, this);
			return node;
		},
		getValue: function() { return this.input.value; },
		setValue: function(v) { this.input.value = v; }
	});

	// Items with a remove button, and an input whose text is added on Enter or "+" once valid.
	uiInstance.DynamicList = AbstractElement.extend({
		render: function() {
			var self = this, items = E('div', { 'class': 'cbi-dynlist-items' });
			var input = E('input', { 'id': this.options.id, 'type': 'text', 'class': 'cbi-input-text', 'name': this.options.name, 'placeholder': this.options.placeholder });
			var addRow = E('div', { 'class': 'add-item' }, [ input ]);
			var node = E('div', { 'class': 'cbi-dynlist' }, [ items, addRow ]);
			this.items = items;
			this.input = input;
			this.setupValidation(input, function() { return input.value; }, addRow);
			function add() {
				if (input.value === '' || !self.validate()) return;
				self.addItem(input.value);
				input.value = '';
			}
			addRow.appendChild(E('button', { 'class': 'cbi-button cbi-button-add', 'type': 'button', 'click': add }, '+'));
			input.addEventListener('keydown', function(ev) { if (ev.key == 'Enter') { ev.preventDefault(); add(); } });
			L.toArray(this.value).forEach(function(v) { self.addItem(v); });
			domInstance.bindClassInstance(node, this);
			input.__luciClass = this;
			this.node = node;
			return node;
		},
		addItem: function(v) {
			var item = E('div', { 'class': 'item', 'data-value': v }, [ E('span', {}, [ v ]),
				E('button', { 'class': 'cbi-button cbi-button-remove', 'type': 'button', 'title': _('Remove'), 'click': function() { item.remove(); } }, '×') ]);
			this.items.appendChild(item);
		},
		getValue: function() {
			var rv = [];
			this.items.querySelectorAll('.item').forEach(function(i) { rv.push(i.getAttribute('data-value')); });
			if (this.input.value !== '' && !this.input.classList.contains('cbi-input-invalid')) rv.push(this.input.value);
			return rv;
		},
		setValue: function(v) {
			var self = this;
			domInstance.content(this.items, []);
			L.toArray(v).forEach(function(x) { self.addItem(x); });
		}
	});

	// --------------------------------------------------------------- form --

	function isEqual(x, y) {
		if (x != null && y != null && typeof x != typeof y) return false;
		if ((x == null) != (y == null)) return false;
		if (Array.isArray(x)) {
			if (!Array.isArray(y) || x.length != y.length) return false;
			for (var i = 0; i < x.length; i++) if (!isEqual(x[i], y[i])) return false;
			return true;
		}
		return x == y;
	}

	var CBINode = Class.extend({
		__init__: function(title, description) {
			this.title = title || '';
			this.description = description || '';
			this.children = [];
		},
		append: function(obj) { this.children.push(obj); },
		stripTags: function(s) { var d = document.createElement('div'); d.innerHTML = s; return d.textContent; }
	});

	var CBIMap = CBINode.extend({
		__init__: function(config, title, description) {
			CBINode.prototype.__init__.call(this, title, description);
			this.config = config;
			this.data = uciInstance;
		},
		section: function(cls) {
			var args = Array.prototype.slice.call(arguments, 1);
			var obj = cls.instantiate([ this ].concat(args));
			this.append(obj);
			return obj;
		},
		findElement: function(attr, value) {
			if (!this.root) return null;
			var all = this.root.querySelectorAll('[' + attr + ']');
			for (var i = 0; i < all.length; i++) if (all[i].getAttribute(attr) == value) return all[i];
			return null;
		},
		lookupOption: function(name, section_id) {
			for (var i = 0; i < this.children.length; i++) {
				var s = this.children[i];
				for (var j = 0; j < s.children.length; j++)
					if (s.children[j].option == name) return [ s.children[j], section_id ];
			}
			return null;
		},
		load: function() { return this.data.load(this.config); },
		parse: function() {
			return Promise.all(this.children.map(function(s) { return s.parse(); }));
		},
		render: function() {
			return this.load().then(L.bind(this.renderContents, this));
		},
		renderContents: function() {
			var root = this.root || E('div', { 'class': 'cbi-map', 'id': 'cbi-' + this.config });
			this.root = root;
			return Promise.all(this.children.map(function(s) { return s.render(); })).then(L.bind(function(nodes) {
				domInstance.content(root, E([ this.title ? E('h2', {}, this.title) : null, nodes ]));
				domInstance.bindClassInstance(root, this);
				this.checkDepends();
				return root;
			}, this));
		},
		checkDepends: function() {
			this.children.forEach(function(s) { s.checkDepends(); });
		},
		save: function(cb, silent) {
			this.checkDepends();
			return this.parse().then(cb).then(L.bind(this.data.save, this.data)).then(L.bind(this.renderContents, this)).catch(function(e) {
				if (!silent)
					uiInstance.showModal(_('Save error'), [
						E('p', {}, [ _('An error occurred while saving the form:') ]),
						E('p', {}, [ E('em', { 'class': 'save-error', 'style': 'white-space:pre-wrap' }, [ e.message ]) ]),
						E('div', { 'class': 'right' }, [ E('button', { 'class': 'cbi-button', 'click': uiInstance.hideModal }, [ _('Dismiss') ]) ])
					]);
				return Promise.reject(e);
			});
		}
	});

	var CBIAbstractSection = CBINode.extend({
		__init__: function(map, sectionType, title, description) {
			CBINode.prototype.__init__.call(this, title, description);
			this.map = map;
			this.sectiontype = sectionType;
			this.config = map.config;
		},
		tab: function(name, title, description) {
			if (this.tabs && this.tabs[name]) throw 'Tab already declared';
			var entry = { name: name, title: title, description: description, children: [] };
			this.tabs = this.tabs || [];
			this.tabs.push(entry);
			this.tabs[name] = entry;
			this.tab_names = this.tab_names || [];
			this.tab_names.push(name);
		},
		option: function(cls) {
			if (!CBIAbstractValue.isSubclass(cls) && cls !== CBIAbstractValue) throw new TypeError('Class must be a descendant of CBIAbstractValue');
			var obj = cls.instantiate([ this.map, this ].concat(Array.prototype.slice.call(arguments, 1)));
			this.append(obj);
			return obj;
		},
		taboption: function(tabName) {
			if (!this.tabs || !this.tabs[tabName]) throw new ReferenceError('Associated tab not declared');
			var obj = this.option.apply(this, Array.prototype.slice.call(arguments, 1));
			obj.tab = tabName;
			this.tabs[tabName].children.push(obj);
			return obj;
		},
		filter: function() { return true; },
		parse: function() {
			var tasks = [], ids = this.cfgsections();
			for (var i = 0; i < ids.length; i++)
				for (var j = 0; j < this.children.length; j++) tasks.push(this.children[j].parse(ids[i]));
			return Promise.all(tasks);
		},
		formvalue: function(section_id, option) {
			for (var i = 0; i < this.children.length; i++) {
				var o = this.children[i];
				if (o.option == option) return this.map.root ? o.formvalue(section_id) : o.cfgvalue(section_id);
			}
			return null;
		},
		cfgvalue: function(section_id, option) {
			for (var i = 0; i < this.children.length; i++) if (this.children[i].option == option) return this.children[i].cfgvalue(section_id);
			return null;
		},
		getUIElement: function(section_id, option) {
			for (var i = 0; i < this.children.length; i++) if (this.children[i].option == option) return this.children[i].getUIElement(section_id);
			return null;
		},
		getOption: function(option) {
			for (var i = 0; i < this.children.length; i++) if (this.children[i].option == option) return this.children[i];
			return null;
		},
		checkDepends: function() {
			var ids = this.cfgsections();
			for (var i = 0; i < ids.length; i++)
				for (var j = 0; j < this.children.length; j++) {
					var o = this.children[j];
					o.setActive(ids[i], o.checkDepends(ids[i]));
					if (o.subsection) o.subsection.checkDepends();
				}
		},
		renderOptions: function(options, section_id) {
			return Promise.all(options.map(function(o) { return o.render(section_id); }));
		},
		renderUCISection: function(section_id) {
			var self = this;
			if (!this.tabs)
				return this.renderOptions(this.children, section_id).then(function(nodes) { return E('div', { 'class': 'cbi-section-node' }, nodes); });
			return Promise.all(this.tab_names.map(function(name) {
				return self.renderOptions(self.tabs[name].children, section_id);
			})).then(function(panes) {
				var menu = E('ul', { 'class': 'cbi-tabmenu' });
				var containers = panes.map(function(nodes, i) {
					var name = self.tab_names[i];
					return E('div', { 'class': 'cbi-tabcontainer', 'id': 'container.' + self.config + '.' + section_id + '.' + name, 'data-tab': name,
						'style': i == 0 ? '' : 'display:none' }, nodes);
				});
				self.tab_names.forEach(function(name, i) {
					menu.appendChild(E('li', { 'class': 'tabmenu-item-' + name + (i == 0 ? ' cbi-tab' : ' cbi-tab-disabled') }, E('a', { 'href': '#', 'data-tab': name, 'click': function(ev) {
						ev.preventDefault();
						containers.forEach(function(c) { c.style.display = (c.getAttribute('data-tab') == name) ? '' : 'none'; });
						menu.querySelectorAll('li').forEach(function(li) { li.className = 'tabmenu-item-' + li.firstChild.getAttribute('data-tab') + (li.firstChild.getAttribute('data-tab') == name ? ' cbi-tab' : ' cbi-tab-disabled'); });
					} }, self.tabs[name].title)));
				});
				return E('div', { 'class': 'cbi-section-node cbi-section-node-tabbed' }, [ menu ].concat(containers));
			});
		}
	});

	var CBINamedSection = CBIAbstractSection.extend({
		__init__: function(map, section_id, sectionType, title, description) {
			CBIAbstractSection.prototype.__init__.call(this, map, sectionType, title, description);
			this.section = section_id;
		},
		cfgsections: function() { return [ this.section ]; },
		render: function() {
			return this.renderUCISection(this.section).then(L.bind(function(node) {
				return E('div', { 'class': 'cbi-section', 'id': 'cbi-' + this.config + '-' + this.section }, [ this.title ? E('h3', {}, this.title) : null, node ]);
			}, this));
		}
	});

	var CBITypedSection = CBIAbstractSection.extend({
		cfgsections: function() {
			return this.map.data.sections(this.map.config, this.sectiontype).map(function(s) { return s['.name']; }).filter(L.bind(this.filter, this));
		},
		render: function() {
			var self = this, ids = this.cfgsections();
			return Promise.all(ids.map(function(sid) { return self.renderUCISection(sid); })).then(function(nodes) {
				return E('div', { 'class': 'cbi-section' }, nodes.length ? nodes : (self.renderSectionPlaceholder ? self.renderSectionPlaceholder() : null));
			});
		}
	});

	// A table of sections; options show as columns unless modalonly, all edited in a modal.
	var CBIGridSection = CBITypedSection.extend({
		parse: function() {
			var tasks = [], ids = this.cfgsections();
			for (var i = 0; i < ids.length; i++)
				for (var j = 0; j < this.children.length; j++) {
					var o = this.children[j];
					if (!o.editable || o.modalonly) continue;
					tasks.push(o.parse(ids[i]));
				}
			return Promise.all(tasks);
		},
		render: function() {
			var self = this, ids = this.cfgsections();
			var columns = this.children.filter(function(o) { return !o.modalonly; });
			var table = E('table', { 'class': 'table cbi-section-table' }, [
				E('tr', { 'class': 'tr cbi-section-table-titles' }, columns.map(function(o) { return E('th', { 'class': 'th' }, o.title); }).concat([ E('th', { 'class': 'th cbi-section-actions' }) ]))
			]);
			var rows = ids.map(function(sid) {
				return Promise.all(columns.map(function(o) {
					if (o.editable) return o.render(sid).then(function(n) { return E('td', { 'class': 'td cbi-value-field', 'data-title': o.title }, n); });
					var v = o.textvalue(sid);
					// A text value is HTML here, as in LuCI's grid cells.
					return Promise.resolve(E('td', { 'class': 'td cbi-value-field', 'data-title': o.title, 'data-name': o.option }, v == null || v === '' ? E('em', {}, _('none')) : (v instanceof Node ? v : String(v))));
				})).then(function(cells) {
					cells.push(E('td', { 'class': 'td cbi-section-actions' }, [
						E('button', { 'class': 'cbi-button cbi-button-edit', 'type': 'button', 'click': uiInstance.createHandlerFn(self, 'renderMoreOptionsModal', sid) }, _('Edit')),
						self.addremove ? E('button', { 'class': 'cbi-button cbi-button-remove', 'type': 'button', 'click': uiInstance.createHandlerFn(self, 'handleRemove', sid) }, _('Delete')) : null
					]));
					return E('tr', { 'class': 'tr cbi-section-table-row', 'id': 'cbi-' + self.config + '-' + sid, 'data-sid': sid }, cells);
				});
			});
			return Promise.all(rows).then(function(trs) {
				if (trs.length) trs.forEach(function(tr) { table.appendChild(tr); });
				else table.appendChild(E('tr', { 'class': 'tr placeholder' }, E('td', { 'class': 'td' }, self.renderSectionPlaceholder ? self.renderSectionPlaceholder() : E('em', {}, _('This section contains no values yet')))));
				var node = E('div', { 'class': 'cbi-section cbi-tblsection', 'id': 'cbi-' + self.config + '-' + self.sectiontype }, [
					self.title ? E('h3', {}, self.title) : null, table,
					self.addremove ? E('div', { 'class': 'cbi-section-create' }, E('button', { 'class': 'cbi-button cbi-button-add', 'type': 'button',
						'click': uiInstance.createHandlerFn(self, 'handleAdd') }, self.addbtntitle || _('Add'))) : null
				]);
				self.node = node;
				return node;
			});
		},
		redraw: function() {
			var old = this.node;
			return this.render().then(function(node) { if (old && old.parentNode) old.parentNode.replaceChild(node, old); return node; });
		},
		handleAdd: function() {
			var sid = this.map.data.add(this.map.config, this.sectiontype);
			this.addedSection = sid;
			return this.renderMoreOptionsModal(sid);
		},
		handleRemove: function(sid) {
			this.map.data.remove(this.map.config, sid);
			return this.map.save(null, true);
		},
		// The options (except modalonly === false) cloned into a Map of one NamedSection.
		renderMoreOptionsModal: function(sid) {
			var self = this, m = new CBIMap(this.map.config), s = m.section(CBINamedSection, sid, this.sectiontype);
			m.parent = this.map;
			for (var i = 0; i < this.children.length; i++) {
				var o1 = this.children[i];
				if (o1.modalonly === false) continue;
				var o2 = s.option(o1.constructor, o1.option, o1.title, o1.description);
				for (var k in o1) {
					if (!Object.prototype.hasOwnProperty.call(o1, k)) continue;
					if (k == 'map' || k == 'section' || k == 'option' || k == 'title' || k == 'description') continue;
					o2[k] = o1[k];
				}
			}
			return m.render().then(function(node) {
				uiInstance.showModal(self.modaltitle || _('Edit'), [ node, E('div', { 'class': 'right' }, [
					E('button', { 'class': 'cbi-button', 'type': 'button', 'click': function() {
						if (self.addedSection) { self.map.data.remove(self.map.config, self.addedSection); self.addedSection = null; }
						uiInstance.hideModal();
						return self.redraw();
					} }, _('Dismiss')), ' ',
					E('button', { 'class': 'cbi-button cbi-button-positive important', 'type': 'button', 'click': uiInstance.createHandlerFn(self, 'handleModalSave', m) }, _('Save'))
				]) ]);
			});
		},
		handleModalSave: function(m) {
			var self = this;
			return m.parse().then(function() {
				self.addedSection = null;
				uiInstance.hideModal();
				return self.map.renderContents();
			}).catch(function() {});
		}
	});

	var CBIAbstractValue = CBINode.extend({
		__init__: function(map, section, option, title, description) {
			CBINode.prototype.__init__.call(this, title, description);
			this.map = map;
			this.section = section;
			this.option = option;
			this.config = map.config;
			this.deps = [];
			this.rmempty = true;
			this.default = null;
			this.optional = false;
			this.retain = false;
		},
		depends: function(field, value) {
			var dep = {};
			if (typeof field == 'string') dep[field] = value;
			else dep = field;
			this.deps.push(dep);
		},
		checkDepends: function(section_id) {
			if (this.deps.length == 0) return true;
			for (var i = 0; i < this.deps.length; i++) {
				var ok = true;
				for (var field in this.deps[i]) {
					var res = this.map.lookupOption(field, section_id);
					var val = (res && res[0].isActive(res[1])) ? res[0].formvalue(res[1]) : null;
					if (!isEqual(val, this.deps[i][field])) ok = false;
				}
				if (ok) return true;
			}
			return false;
		},
		cbid: function(section_id) { return 'cbid.' + this.config + '.' + section_id + '.' + this.option; },
		load: function(section_id) { return this.map.data.get(this.config, section_id, this.option); },
		cfgvalue: function(section_id) { return this.load(section_id); },
		getUIElement: function(section_id) {
			var node = this.map.findElement('id', this.cbid(section_id));
			return node ? node.__luciClass || null : null;
		},
		formvalue: function(section_id) { var e = this.getUIElement(section_id); return e ? e.getValue() : null; },
		textvalue: function(section_id) {
			var v = this.cfgvalue(section_id);
			if (v == null) v = this.default;
			if (Array.isArray(v)) v = v.join(' ');
			return v != null ? '%h'.format(v) : null;
		},
		validate: function() { return true; },
		isValid: function(section_id) { var e = this.getUIElement(section_id); return e ? e.isValid() : true; },
		getValidationError: function(section_id) { var e = this.getUIElement(section_id); return e ? e.getValidationError() : ''; },
		isActive: function(section_id) {
			var f = this.map.findElement('data-field', this.cbid(section_id));
			return f != null && !f.classList.contains('hidden');
		},
		setActive: function(section_id, active) {
			var f = this.map.findElement('data-field', this.cbid(section_id));
			if (f) f.classList[active ? 'remove' : 'add']('hidden');
		},
		parse: function(section_id) {
			var active = this.isActive(section_id);
			if (active && !this.isValid(section_id))
				return Promise.reject(new TypeError(_('Option "%s" contains an invalid input value.').format(this.stripTags(this.title).trim() || this.option) + ' ' + this.getValidationError(section_id)));
			if (active) {
				var cval = this.cfgvalue(section_id), fval = this.formvalue(section_id);
				if (fval == null || fval == '' || (Array.isArray(fval) && fval.length == 0)) {
					if (this.rmempty || this.optional) return Promise.resolve(this.remove(section_id));
					return Promise.reject(new TypeError(_('Option "%s" must not be empty.').format(this.stripTags(this.title).trim() || this.option)));
				}
				if (this.forcewrite || !isEqual(cval, fval)) return Promise.resolve(this.write(section_id, fval));
			}
			else if (!this.retain) {
				return Promise.resolve(this.remove(section_id));
			}
			return Promise.resolve();
		},
		write: function(section_id, value) { return this.map.data.set(this.config, section_id, this.option, value); },
		remove: function(section_id) { return this.map.data.unset(this.config, section_id, this.option); },
		render: function(section_id) {
			var self = this, cval = this.cfgvalue(section_id);
			if (cval == null) cval = this.default;
			return Promise.resolve(this.renderWidget(section_id, 0, cval)).then(function(widget) {
				var inTable = self.section instanceof CBIGridSection;
				if (inTable) return E('div', { 'data-field': self.cbid(section_id), 'data-name': self.option }, widget);
				return E('div', { 'class': 'cbi-value', 'id': 'cbi-' + self.config + '-' + section_id + '-' + self.option, 'data-field': self.cbid(section_id), 'data-name': self.option }, [
					E('label', { 'class': 'cbi-value-title', 'for': self.cbid(section_id) }, self.title),
					E('div', { 'class': 'cbi-value-field' }, [ widget, (self.description && !(self.section.nodescriptions)) ? E('div', { 'class': 'cbi-value-description' }, self.htmlDescription()) : null ])
				]);
			});
		},
		htmlDescription: function() { var d = E('span'); d.innerHTML = this.description; return d; }
	});

	var CBIValue = CBIAbstractValue.extend({
		value: function(key, label) { this.keylist = this.keylist || []; this.keylist.push(key); this.vallist = this.vallist || []; this.vallist.push(label || key); },
		renderWidget: function(section_id, option_index, cfgvalue) {
			var w = new uiInstance.Textfield(cfgvalue, { id: this.cbid(section_id), name: this.cbid(section_id), optional: !!this.optional,
				placeholder: this.placeholder, password: this.password, validate: L.bind(this.validate, this, section_id) });
			var node = w.render();
			return node;
		}
	});

	var CBIDynamicList = CBIValue.extend({
		renderWidget: function(section_id, option_index, cfgvalue) {
			var w = new uiInstance.DynamicList(cfgvalue == null ? [] : L.toArray(cfgvalue), { id: this.cbid(section_id), name: this.cbid(section_id),
				optional: true, placeholder: this.placeholder, validate: L.bind(this.validate, this, section_id) });
			return w.render();
		}
	});

	var CBIListValue = CBIValue.extend({
		renderWidget: function(section_id, option_index, cfgvalue) {
			var choices = {};
			(this.keylist || []).forEach(L.bind(function(k, i) { choices[k] = this.vallist[i]; }, this));
			return new uiInstance.Select(cfgvalue, { id: this.cbid(section_id), name: this.cbid(section_id), choices: choices }).render();
		}
	});

	var CBIFlag = CBIValue.extend({
		__init__: function() {
			CBIValue.prototype.__init__.apply(this, arguments);
			this.enabled = '1';
			this.disabled = '0';
			this.default = this.disabled;
		},
		renderWidget: function(section_id, option_index, cfgvalue) {
			return new uiInstance.Checkbox(cfgvalue == null ? this.default : cfgvalue, { id: this.cbid(section_id), name: this.cbid(section_id),
				value_enabled: this.enabled, value_disabled: this.disabled }).render();
		},
		formvalue: function(section_id) {
			var e = this.getUIElement(section_id);
			return (e ? e.isChecked() : false) ? this.enabled : this.disabled;
		},
		textvalue: function(section_id) {
			var v = this.cfgvalue(section_id);
			if (v == null) v = this.default;
			return (v == this.enabled) ? _('Yes') : _('No');
		},
		parse: function(section_id) {
			if (this.isActive(section_id)) {
				var fval = this.formvalue(section_id);
				if (fval == this.default && (this.optional || this.rmempty)) return Promise.resolve(this.remove(section_id));
				return Promise.resolve(this.write(section_id, fval));
			}
			if (!this.retain) return Promise.resolve(this.remove(section_id));
			return Promise.resolve();
		}
	});

	var CBIDummyValue = CBIValue.extend({
		renderWidget: function(section_id, option_index, cfgvalue) {
			var value = (this.value != null && typeof this.value != 'function') ? this.value : cfgvalue;
			var out = E('div', { 'id': this.cbid(section_id) });
			if (value instanceof Node) out.appendChild(value);
			else if (this.rawhtml) out.innerHTML = value == null ? '' : value;
			else out.textContent = value == null ? '-' : String(value);
			var inst = new AbstractElement(value, {});
			domInstance.bindClassInstance(out, inst);
			return out;
		},
		textvalue: function(section_id) {
			var v = this.cfgvalue(section_id);
			return v == null ? null : v;
		},
		write: function() {},
		remove: function() {}
	});

	var CBISectionValue = CBIValue.extend({
		__init__: function(map, section, option, cbiClass) {
			CBIValue.prototype.__init__.call(this, map, section, option);
			this.subsection = cbiClass.instantiate([ this.map ].concat(Array.prototype.slice.call(arguments, 4)));
			this.subsection.parentoption = this;
		},
		load: function() { return null; },
		render: function(section_id) {
			return this.subsection.render().then(L.bind(function(node) {
				return E('div', { 'class': 'cbi-value cbi-section-value', 'data-field': this.cbid(section_id), 'data-name': this.option }, node);
			}, this));
		},
		parse: function(section_id) {
			return this.isActive(section_id) ? this.subsection.parse() : Promise.resolve();
		},
		write: function() {},
		remove: function() {}
	});

	var form = Class.extend({
		Map: CBIMap,
		NamedSection: CBINamedSection,
		TypedSection: CBITypedSection,
		GridSection: CBIGridSection,
		Value: CBIValue,
		DynamicList: CBIDynamicList,
		ListValue: CBIListValue,
		Flag: CBIFlag,
		DummyValue: CBIDummyValue,
		SectionValue: CBISectionValue
	});
	define('form', new form());

	// --------------------------------------------------------------- poll --

	var entries = [], tick = 0, timer = null;

	var poll = Class.extend({
		add: function(fn, interval) {
			entries.push({ fn: fn, interval: interval || L.env.pollinterval, running: false });
			this.start();
			return true;
		},
		remove: function(fn) { entries = entries.filter(function(e) { return e.fn !== fn; }); },
		start: function() {
			if (timer != null) return;
			var step = function() {
				tick++;
				entries.forEach(function(e) {
					if (tick % e.interval != 0 || e.running) return;
					e.running = true;
					Promise.resolve().then(e.fn).catch(function(err) { console.error(err); }).finally(function() { e.running = false; });
				});
				timer = window.setTimeout(step, 1000);
			};
			timer = window.setTimeout(step, 1000);
		},
		stop: function() { if (timer != null) window.clearTimeout(timer); timer = null; },
		active: function() { return timer != null; }
	});
	define('poll', new poll());

	// --------------------------------------------------------------- view --

	var view = Class.extend({
		__init__: function() {
			var vp = document.getElementById('view');
			domInstance.content(vp, E('div', { 'class': 'spinning' }, _('Loading view…')));
			this.ready = Promise.resolve(this.load()).then(L.bind(this.render, this)).then(L.bind(function(nodes) {
				domInstance.content(vp, nodes);
				domInstance.append(vp, this.addFooter());
				vp.setAttribute('data-rendered', 'true');
			}, this));
		},
		load: function() {},
		render: function() {},
		addFooter: function() {
			var buttons = [];
			if (this.handleSaveApply) buttons.push(E('button', { 'class': 'cbi-button cbi-button-apply', 'click': uiInstance.createHandlerFn(this, 'handleSaveApply') }, _('Save & Apply')));
			if (this.handleSave) buttons.push(E('button', { 'class': 'cbi-button cbi-button-save', 'click': uiInstance.createHandlerFn(this, 'handleSave') }, _('Save')));
			if (this.handleReset) buttons.push(E('button', { 'class': 'cbi-button cbi-button-reset', 'click': uiInstance.createHandlerFn(this, 'handleReset') }, _('Reset')));
			return buttons.length ? E('div', { 'class': 'cbi-page-actions' }, buttons) : E([]);
		}
	});
	define('view', view);

	// ------------------------------------------------------------ network --

	var protocols = {};

	var Protocol = Class.extend({
		__init__: function(name) { this.sid = name; },
		_ubus: function() { return null; },
		get: function(opt) { return uciInstance.get('network', this.sid, opt); },
		getName: function() { return this.sid; }
	});

	var network = Class.extend({
		Protocol: Protocol,
		registerProtocol: function(name, methods) {
			var cls = Protocol.extend(Object.assign({ getProtocol: function() { return name; } }, methods));
			protocols[name] = cls;
			return cls;
		},
		getProtocol: function(name, netname) {
			var cls = protocols[name];
			return cls ? new cls(netname || '__dummy__') : null;
		},
		getIfnameOf: function(obj) { return typeof obj == 'string' ? obj : null; }
	});
	define('network', new network());
})();
