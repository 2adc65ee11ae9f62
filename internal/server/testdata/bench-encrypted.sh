#!/usr/bin/env bash
# Cached answers over UDP, TCP, DoT and DoH: Rootline's resolver and
# Unbound side by side in one run, each pinned to CPU 1 with one worker,
# dnsperf and the upstream on CPU 0. Reports qps and server CPU µs per
# query (the stable figure on a shared machine), and the cost of a new
# TLS connection (dnsperf -O num-queries-per-conn=1: every query on a
# connection of its own, full handshake, no resumption).
#
#   bench-encrypted.sh ROOTLINE_BINARY [SECONDS]
#
# Loopback only: 127.0.87.1 Rootline, .2 Unbound under test, .3 the
# upstream Unbound (local data for 1000 names). Everything started here
# is stopped by its pid at exit.
set -euo pipefail
BIN=${1:?rootline binary}
SECS=${2:-10}
W=$(mktemp -d /tmp/bench-enc.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/key.pem" -out "$W/cert.pem" \
  -days 1 -subj /CN=bench.test -addext "subjectAltName=DNS:bench.test,IP:127.0.87.1,IP:127.0.87.2" 2>/dev/null
chmod 644 "$W/key.pem"

# Upstream: 1000 names of local data.
{
  echo "server:"
  echo "  interface: 127.0.87.3"; echo "  port: 5300"; echo "  access-control: 127.0.0.0/8 allow"
  echo "  chroot: \"\""; echo "  username: \"\""; echo "  pidfile: \"\""; echo "  use-syslog: no"; echo "  logfile: \"$W/up.log\""
  echo "  num-threads: 1"; echo "  module-config: iterator"
  for i in $(seq 1 1000); do echo "  local-data: \"n$i.bench.test. 3600 A 192.0.2.$((i % 250 + 1))\""; done
  echo "remote-control:"; echo "  control-enable: no"
} > "$W/up.conf"
taskset -c 0 unbound -d -c "$W/up.conf" & pids+=($!)

# Unbound under test: forwards to the upstream, serves DoT on 853 and DoH on 443.
cat > "$W/ub.conf" <<EOF
server:
  interface: 127.0.87.2@53
  interface: 127.0.87.2@853
  interface: 127.0.87.2@443
  tls-port: 853
  https-port: 443
  tls-service-key: "$W/key.pem"
  tls-service-pem: "$W/cert.pem"
  access-control: 127.0.0.0/8 allow
  chroot: ""
  username: ""
  pidfile: ""
  use-syslog: no
  logfile: "$W/ub.log"
  num-threads: 1
  so-reuseport: no
  do-not-query-localhost: no
  module-config: iterator
  incoming-num-tcp: 1000
  msg-cache-size: 64m
  rrset-cache-size: 64m
forward-zone:
  name: "."
  forward-addr: 127.0.87.3@5300
remote-control:
  control-enable: no
EOF
taskset -c 1 unbound -d -c "$W/ub.conf" & UB=$!; pids+=($UB)

GOMAXPROCS=1 taskset -c 1 "$BIN" resolver --listen 127.0.87.1:53 --listen-tls 127.0.87.1:853 --listen-https 127.0.87.1:443 \
  --tls-cert "$W/cert.pem" --tls-key "$W/key.pem" --forward .=127.0.87.3:5300 --allow-loopback-upstream --no-dnssec \
  2>"$W/rootline.log" & RL=$!; pids+=($RL)

for i in $(seq 1 1000); do echo "n$i.bench.test A"; done > "$W/queries"
for a in 127.0.87.1 127.0.87.2 127.0.87.3:5300; do
  for _ in $(seq 50); do dig +short +time=1 +tries=1 @"${a%%:*}" -p "$( [[ $a == *:* ]] && echo "${a##*:}" || echo 53)" n1.bench.test >/dev/null 2>&1 && break; sleep 0.1; done
done
# Warm both caches.
for s in 127.0.87.1 127.0.87.2; do taskset -c 0 dnsperf -s $s -d "$W/queries" -n 1 -q 100 >/dev/null; done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
printf "%-9s %-6s %-5s %10s %12s\n" server mode conn qps "cpu_us/q"
run() { # name pid server mode [extra dnsperf args]
  local name=$1 pid=$2 srv=$3 mode=$4; shift 4
  local per=many; [[ "$*" == *num-queries-per-conn=1* ]] && per=new
  local t0 t1 out q
  t0=$(ticks "$pid")
  out=$(taskset -c 0 dnsperf -s "$srv" -m "$mode" -d "$W/queries" -l "$SECS" -c 8 -q 64 "$@" 2>&1)
  t1=$(ticks "$pid")
  q=$(awk '/Queries completed/ {print $3}' <<<"$out")
  printf "%-9s %-6s %-5s %10s %12.1f\n" "$name" "$mode" "$per" "$(awk '/Queries per second/ {printf "%d", $4}' <<<"$out")" \
    "$(awk -v d=$((t1 - t0)) -v q="$q" -v hz="$hz" 'BEGIN {print q ? d / hz * 1e6 / q : 0}')"
}
for mode in udp tcp dot doh; do
  run rootline $RL 127.0.87.1 $mode
  run unbound $UB 127.0.87.2 $mode
done
for mode in dot doh; do
  run rootline $RL 127.0.87.1 $mode -O num-queries-per-conn=1
  run unbound $UB 127.0.87.2 $mode -O num-queries-per-conn=1
done

# Memory per idle DoT connection: N connections from 20 loopback source
# addresses (under Rootline's per-client share of 32), one query each,
# then held idle; RSS before and after, per connection.
N=${IDLE_CONNS:-400}
idle() { # name pid addr
  python3 - "$1" "$2" "$3" "$N" <<'PY'
import socket, ssl, struct, sys, time
name, pid, addr, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
q = bytes.fromhex("000001000001000000000000") + b"\x02n1\x05bench\x04test\x00\x00\x01\x00\x01"
before = rss()
conns = []
t0 = time.monotonic()
for i in range(n):
    s = socket.socket()
    s.bind((f"127.0.88.{i % 20 + 1}", 0))
    s.connect((addr, 853))
    t = ctx.wrap_socket(s)
    t.sendall(struct.pack("!H", len(q)) + q)
    l = struct.unpack("!H", t.recv(2))[0]
    while l > 0:
        l -= len(t.recv(l))
    conns.append(t)
took = time.monotonic() - t0
after = rss()
print(f"{name:9s} idle DoT: {n} connections, RSS +{(after - before)} KiB, {(after - before) * 1024 / n:.0f} bytes per connection ({took * 1e3 / n:.2f} ms per connect+handshake+query, client side)")
for t in conns:
    t.close()
PY
}
idle rootline $RL 127.0.87.1
idle unbound $UB 127.0.87.2
