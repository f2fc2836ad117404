#!/usr/bin/env bash
# npm run demo: wgts (the QuickJS executable) in one network namespace and a
# real WireGuard peer (Debian's wireguard-go, configured with wg) in another,
# joined by a veth pair. Pings both ways over IPv4 and IPv6, moves bulk data
# with iperf3 in both directions, prints `wg show` for both sides, tears down.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (network namespaces, TUN devices)" >&2; exit 1; }
need=()
command -v wireguard-go >/dev/null || need+=(wireguard-go)
command -v wg >/dev/null || need+=(wireguard-tools)
command -v iperf3 >/dev/null || need+=(iperf3)
command -v ping >/dev/null || need+=(iputils-ping)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }
fi

echo "== building the host runtime"
node build/build.mjs >/dev/null
WGTS="$PWD/dist/x86_64/wgts"
"$WGTS" --version

A=wgts-demo-a B=wgts-demo-b IFA=wgdemo-a IFB=wgdemo-b
SOCKS=/var/run/wireguard
work=""
cleanup() {
  set +e
  ip -n "$A" link del "$IFA" 2>/dev/null
  ip -n "$B" link del "$IFB" 2>/dev/null
  rm -f "$SOCKS/$IFA.sock" "$SOCKS/$IFB.sock"   # both daemons exit when their socket goes
  [ -n "${IPERF_PID:-}" ] && kill "$IPERF_PID" 2>/dev/null
  ip netns del "$A" 2>/dev/null
  ip netns del "$B" 2>/dev/null
  [ -n "$work" ] && rm -rf "$work"
  return 0
}
cleanup   # leftovers of an interrupted run
trap cleanup EXIT
work=$(mktemp -d)

echo "== two namespaces joined by a veth pair"
ip netns add "$A"; ip netns add "$B"
ip link add veth-demo-a netns "$A" type veth peer name veth-demo-b netns "$B"
ip -n "$A" addr add 192.168.241.1/24 dev veth-demo-a
ip -n "$B" addr add 192.168.241.2/24 dev veth-demo-b
ip -n "$A" link set veth-demo-a up; ip -n "$B" link set veth-demo-b up
ip -n "$A" link set lo up; ip -n "$B" link set lo up

ka=$(wg genkey); kb=$(wg genkey)
pa=$(echo "$ka" | wg pubkey); pb=$(echo "$kb" | wg pubkey)
psk=$(wg genpsk)
printf '%s' "$ka" > "$work/a.key"; printf '%s' "$kb" > "$work/b.key"; printf '%s' "$psk" > "$work/psk"

echo "== wgts in $A, wireguard-go in $B"
ip netns exec "$A" "$WGTS" "$IFA"
ip netns exec "$B" wireguard-go "$IFB" 2>/dev/null
ip netns exec "$A" wg set "$IFA" private-key "$work/a.key" listen-port 51820 \
  peer "$pb" preshared-key "$work/psk" endpoint 192.168.241.2:51821 allowed-ips 10.241.0.2/32,fd00:241::2/128
ip netns exec "$B" wg set "$IFB" private-key "$work/b.key" listen-port 51821 \
  peer "$pa" preshared-key "$work/psk" endpoint 192.168.241.1:51820 allowed-ips 10.241.0.1/32,fd00:241::1/128
ip -n "$A" addr add 10.241.0.1/24 dev "$IFA"; ip -n "$A" addr add fd00:241::1/64 dev "$IFA" nodad
ip -n "$B" addr add 10.241.0.2/24 dev "$IFB"; ip -n "$B" addr add fd00:241::2/64 dev "$IFB" nodad
ip -n "$A" link set "$IFA" up; ip -n "$B" link set "$IFB" up

echo "== ping wgts -> wireguard-go (IPv4, IPv6)"
ip netns exec "$A" ping -c 3 -i 0.2 -W 3 10.241.0.2 | tail -2
ip netns exec "$A" ping -6 -c 3 -i 0.2 -W 3 fd00:241::2 | tail -2
echo "== ping wireguard-go -> wgts (IPv4, IPv6, full-MTU packets)"
ip netns exec "$B" ping -c 3 -i 0.2 -W 3 10.241.0.1 | tail -2
ip netns exec "$B" ping -6 -c 3 -i 0.2 -W 3 fd00:241::1 | tail -2
ip netns exec "$B" ping -M do -s 1392 -c 3 -i 0.2 -W 3 10.241.0.1 | tail -2

echo "== bulk: iperf3 TCP through the tunnel, 5 s each way"
ip netns exec "$B" iperf3 -s -1 -B 10.241.0.2 >/dev/null 2>&1 & IPERF_PID=$!
sleep 0.5
ip netns exec "$A" iperf3 -c 10.241.0.2 -t 5 -f m | grep -E 'sender|receiver'
wait "$IPERF_PID" 2>/dev/null || true
ip netns exec "$B" iperf3 -s -1 -B 10.241.0.2 >/dev/null 2>&1 & IPERF_PID=$!
sleep 0.5
ip netns exec "$A" iperf3 -c 10.241.0.2 -t 5 -f m -R | grep -E 'sender|receiver'
wait "$IPERF_PID" 2>/dev/null || true
IPERF_PID=

echo "== wg show (wgts side)"
ip netns exec "$A" wg show "$IFA"
echo
echo "== wg show (wireguard-go side)"
ip netns exec "$B" wg show "$IFB"
echo
echo "== tearing down"
