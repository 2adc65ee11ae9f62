#!/usr/bin/env bash
# Random-subdomain flood, RSS side by side (#11 item 4): N unique NXDOMAIN
# names under victim.com through `rootline resolver` (BIN) and Unbound in the
# same run, both iterating from an NSD on 127.59.0.1:53 serving . and
# victim.com; prints VmRSS after each flood. Run as root (port 53 on
# 127.59.0.x); needs nsd, unbound, dnsperf. ROOTLINE_ENV (e.g.
# GOMEMLIMIT=off) and ROOTLINE_ARGS (e.g. --config FILE) vary the resolver.
#   go build -o /tmp/flood/rootline ./cmd/rootline && N=400000 internal/resolver/testdata/flood-rss.sh
N=${N:-400000}
BIN=${BIN:-/tmp/flood/rootline}
D=${WORK:-/tmp/flood}/run; rm -rf $D; mkdir -p $D
cat > $D/root.zone <<Z
. 3600 IN SOA a.root. h. 1 3600 600 86400 3600
. 3600 IN NS a.root.
a.root. 3600 IN A 127.59.0.1
victim.com. 3600 IN NS ns1.victim.com.
ns1.victim.com. 3600 IN A 127.59.0.1
Z
cat > $D/victim.zone <<Z
victim.com. 300 IN SOA ns1.victim.com. h. 1 3600 600 86400 300
victim.com. 300 IN NS ns1.victim.com.
ns1.victim.com. 300 IN A 127.59.0.1
www.victim.com. 300 IN A 192.0.2.1
Z
cat > $D/hints <<Z
. 3600000 NS a.root.
a.root. 3600000 A 127.59.0.1
Z
cat > $D/nsd.conf <<Z
server:
  ip-address: 127.59.0.1@53
  zonesdir: "$D"
  pidfile: "$D/nsd.pid"
  zonelistfile: "$D/zone.list"
  xfrdfile: "$D/xfrd.state"
  database: ""
  username: ""
  chroot: ""
  logfile: "$D/nsd.log"
  server-count: 1
  rrl-ratelimit: 0
  verbosity: 0
zone:
  name: "."
  zonefile: "$D/root.zone"
zone:
  name: "victim.com."
  zonefile: "$D/victim.zone"
Z
cat > $D/unbound.conf <<Z
server:
  interface: 127.59.0.54
  port: 53
  access-control: 127.0.0.0/8 allow
  directory: "$D"
  chroot: ""
  username: ""
  pidfile: "$D/unbound.pid"
  logfile: "$D/unbound.log"
  use-syslog: no
  num-threads: 1
  so-reuseport: no
  root-hints: "$D/hints"
  do-not-query-localhost: no
  module-config: "iterator"
  qname-minimisation: yes
Z
python3 - $N > $D/names <<'P'
import sys
n=int(sys.argv[1])
for i in range(n):
    print("r%d-%x.victim.com A" % (i, (i*2654435761) & 0xffffffff))
P
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
nsd -d -c $D/nsd.conf > $D/nsd.out 2>&1 & PIDS+=($!)
unbound -d -c $D/unbound.conf > $D/unbound.out 2>&1 & PIDS+=($!); UB=$!
env ${ROOTLINE_ENV:-X=1} $BIN resolver --listen 127.59.0.53:53 --root-hints $D/hints --allow-loopback-upstream ${ROOTLINE_ARGS:-} > $D/rootline.out 2>&1 & PIDS+=($!); RL=$!
sleep 2
for who in rootline:127.59.0.53:$RL unbound:127.59.0.54:$UB; do
  IFS=: read name addr pid <<< "$who"
  dnsperf -s $addr -d $D/names -n 1 -c 8 -q 128 -t 5 > $D/$name.perf 2>&1
  sleep 1
  rss=$(awk '/VmRSS/{print $2}' /proc/$pid/status); hwm=$(awk '/VmHWM/{print $2}' /proc/$pid/status)
  qps=$(awk '/Queries per second/{print $4}' $D/$name.perf); lost=$(awk '/Queries lost/{print $3}' $D/$name.perf)
  echo "$name: N=$N RSS ${rss} kB, peak ${hwm} kB, qps ${qps}, lost ${lost}"
done
