package server

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkUDPServe is the worker's per-datagram work without the
// syscalls: parse the sockaddr, run the handler, prepare sendmmsg.
func BenchmarkUDPServe(b *testing.B) {
	b.Run("echo", func(b *testing.B) { benchServe(b, echoHandler) })
	// The middleware a daemon puts in front: still no allocation.
	b.Run("recover+acl+echo", func(b *testing.B) {
		benchServe(b, Chain(echoHandler, Recover(nil), ACL([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})))
	})
}

func benchServe(b *testing.B, h Handler) {
	s := New(Config{Listen: []netip.AddrPort{lo4}}, h)
	s.ctx = context.Background()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(lo4))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	w, err := newUDPWorker(s, c, new(atomic.Int32), c.LocalAddr().(*net.UDPAddr).AddrPort(), udpBatch)
	if err != nil {
		b.Fatal(err)
	}
	q := pack(b, query("www.example.test.", dns.TypeA))
	for i := 0; i < udpBatch; i++ {
		copy(w.in[i*maxMsgSize:], q)
		w.rhdrs[i].Len = uint32(len(q))
		w.rhdrs[i].Hdr.Namelen = 16
		w.names[i] = [28]byte{2, 0, 0x14, 0xe9, 127, 0, 0, 1}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += udpBatch {
		if m := w.serve(udpBatch); m != udpBatch {
			b.Fatalf("%d replies", m)
		}
	}
}
