#!/bin/busybox sh
# /init of the full-system guests: brings up a wgts tunnel to the host's
# wireguard-go through QEMU user networking and reports each step as a
# "WGTS-QEMU <step> ..." line on the console, which test-qemu/system.mjs
# parses. The host answers on the console: it writes "finish" once its own
# pings and its transfer to the guest are done.
/bin/busybox mkdir -p /bin /proc /sys /dev /tmp /var/run/wireguard
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
. /etc/wgts-test.env

say() { echo "WGTS-QEMU $*"; }
end() {
  say done "$1"
  sync
  reboot -f
  sleep 60
}
say init uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r) machine=$(uname -m)

for m in $(cat /modules/order); do
  insmod "/modules/$m" || say warn "insmod $m failed"
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -c /dev/net/tun ] || end "fail no /dev/net/tun after loading tun.ko"
ip link set lo up
ip link set eth0 up || end "fail no eth0"
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
say network

wgts wg0 || end "fail wgts wg0 exited $?"
wgts-js /uapi-client.mjs wg0 set < /etc/wg0.uapi > /tmp/set.out 2>&1 || end "fail uapi set: $(cat /tmp/set.out)"
ip addr add "$GUEST_TUN/24" dev wg0
ip link set wg0 up
say configured

# The first ping waits for the handshake (X25519 in JavaScript is slow on an
# emulated soft-float CPU); the next three must all come back.
ping -c 1 -W 90 "$HOST_TUN" > /tmp/ping.out 2>&1
if ping -c 3 -W 5 "$HOST_TUN" > /tmp/ping.out 2>&1; then
  say ping-host ok "$(grep -o '[0-9]* packets received' /tmp/ping.out)"
else
  say ping-host fail "$(tail -n 2 /tmp/ping.out | tr '\n' ' ')"
fi
if wgts-js /uapi-client.mjs wg0 wait-handshake 30 > /tmp/hs.out 2>&1; then
  say handshake "$(cat /tmp/hs.out)"
else
  say handshake-fail "$(cat /tmp/hs.out)"
fi

# Bulk guest -> host: the host's sink prints what it received.
head -c "$BULK_BYTES" /dev/urandom > /tmp/blob
say send-md5 "$(md5sum < /tmp/blob | cut -d' ' -f1)"
if nc "$HOST_TUN" 5001 < /tmp/blob; then say sent; else say send-fail "nc exited $?"; fi

# Bulk host -> guest: listen, then hand over to the host.
nc -l -p 5002 > /tmp/rx &
listener=$!
sleep 0.2
say ready
read -r cmd
wait $listener 2>/dev/null
say rx-md5 "$(md5sum < /tmp/rx | cut -d' ' -f1)" bytes=$(wc -c < /tmp/rx)

wgts-js /uapi-client.mjs wg0 get > /tmp/status.out 2>&1
say status $(grep -E '^(listen_port|last_handshake_time_sec|rx_bytes|tx_bytes|endpoint)=' /tmp/status.out | tr '\n' ' ')
# Test bundles on the target kernel (crypto answers, OpenWrt codecs), after the
# tunnel checks so that they do not delay the first handshake.
for t in /tests/*.mjs; do
  [ -f "$t" ] || continue
  if wgts-js "$t" > /tmp/test.out 2>&1; then
    say test-pass "$(basename "$t")" "$(tail -n 1 /tmp/test.out)"
  else
    say test-fail "$(basename "$t")" "$(grep -m 3 'not ok' /tmp/test.out | tr '\n' ' ')" "$(tail -n 1 /tmp/test.out)"
  fi
done

end ok
