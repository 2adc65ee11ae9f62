package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
)

// WriteStats prints Rootline's metrics, labels and all, as the endpoint
// names them, and leaves out the runtime's.
func TestWriteStats(t *testing.T) {
	m := New()
	q := m.Queries("auth")
	q.Query(server.TCP, int(dns.TypeSOA), dns.RcodeNameError, false, 3*time.Millisecond)
	a := m.Auth(func() map[string]uint32 { return map[string]uint32{"example.test.": 2024010101} })
	a.Transfer("out", dns.TypeIXFR, "ok")
	a.Reload(false)
	var nilAuth *Auth
	nilAuth.Transfer("in", dns.TypeAXFR, "ok") // metrics off: nothing, no panic
	nilAuth.Reload(true)
	var b strings.Builder
	if err := m.WriteStats(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`rootline_auth_queries_total{cache="miss",proto="tcp",rcode="NXDOMAIN"} 1`,
		`rootline_auth_query_types_total{qtype="SOA"} 1`,
		`rootline_auth_query_duration_seconds_count{cache="miss"} 1`,
		`rootline_auth_query_duration_seconds_sum{cache="miss"} 0.003`,
		`rootline_auth_zone_serial{zone="example.test."} 2024010101`,
		`rootline_auth_transfers_total{direction="out",result="ok",type="IXFR"} 1`,
		`rootline_auth_transfers_total{direction="in",result="ok",type="AXFR"} 0`,
		`rootline_auth_reloads_total{result="failed"} 1`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("no line %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "go_") || strings.Contains(out, "process_") {
		t.Errorf("runtime metrics in the stats:\n%s", out)
	}
}
