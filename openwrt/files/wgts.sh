#!/bin/sh
# netifd protocol handler for wgts: `option proto 'wgts'` on an interface
# configured exactly like OpenWrt's kernel WireGuard (`proto 'wireguard'`),
# with peers in `config wireguard_<interface>` sections.
#
# netifd runs the daemon (proto_run_command) and supervises it. The daemon
# reads /etc/config/network itself, creates the TUN device named after the
# section, and tells netifd through ubus (notify_proto) when the link is up,
# which addresses and routes it carries and which endpoint host routes it
# depends on. A bad option is reported in the system log by name and the
# interface does not come up with half a config.

[ -n "$INCLUDE_ONLY" ] || {
	. /lib/functions.sh
	. ../netifd-proto.sh
	init_proto "$@"
}

proto_wgts_init_config() {
	# Declared options take part in netifd's change detection: changing one
	# restarts the interface. Peer sections are not declared; a reload that
	# only changes peers is applied live by the daemon (SIGHUP from
	# /etc/init.d/wgts), keeping every unchanged session up.
	proto_config_add_string "private_key"
	proto_config_add_int "listen_port"
	proto_config_add_int "mtu"
	proto_config_add_string "fwmark"
	proto_config_add_array "addresses"
	proto_config_add_array "ip6prefix"
	proto_config_add_boolean "nohostroute"
	proto_config_add_string "tunlink"
	available=1
	no_device=1
	lasterror=1
	renew_handler=1
}

proto_wgts_setup() {
	local config="$1"
	proto_run_command "$config" /usr/sbin/wgts --netifd "$config"
}

proto_wgts_renew() {
	local config="$1"
	# Re-read the configuration and apply the difference live.
	proto_kill_command "$config" 1
}

proto_wgts_teardown() {
	local config="$1"
	proto_kill_command "$config"
}

[ -n "$INCLUDE_ONLY" ] || {
	add_protocol wgts
}
