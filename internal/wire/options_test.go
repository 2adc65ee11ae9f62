package wire

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"
)

func replyWith(t testing.TB, edns bool, extra ...dns.RR) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA)
	m.Response = true
	a, _ := dns.NewRR("www.example.test. 60 IN A 192.0.2.1")
	ns, _ := dns.NewRR("example.test. 60 IN NS ns1.example.test.")
	m.Answer = []dns.RR{a}
	m.Ns = []dns.RR{ns}
	m.Extra = extra
	if edns {
		m.SetEdns0(1232, true)
	}
	m.Compress = true
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAddOptions(t *testing.T) {
	glue, _ := dns.NewRR("ns1.example.test. 60 IN A 192.0.2.53")
	nsid := AppendOption(nil, OptionNSID, []byte("ns1"))
	opts := AppendEDE(nsid, EDENotAuthoritative)
	tests := []struct {
		name  string
		reply []byte
		added bool
	}{
		{"OPT last", replyWith(t, true, glue), true},
		{"no OPT", replyWith(t, false, glue), false},
	}
	// An OPT record before other additional records (a TSIG would follow
	// it): the options go inside it, the rest moves along.
	m := new(dns.Msg)
	if err := m.Unpack(replyWith(t, true)); err != nil {
		t.Fatal(err)
	}
	m.Extra = append(m.Extra, glue)
	b, _ := m.Pack()
	tests = append(tests, struct {
		name  string
		reply []byte
		added bool
	}{"OPT not last", b, true})

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := append([]byte(nil), tc.reply...)
			got, opt := AddOptions(append(make([]byte, 0, 65535), tc.reply...), opts)
			if (opt >= 0) != tc.added {
				t.Fatalf("opt %d, want added %v", opt, tc.added)
			}
			if !tc.added {
				if !bytes.Equal(got, orig) {
					t.Error("a reply without OPT changed")
				}
				return
			}
			if len(got) != len(orig)+len(opts) {
				t.Errorf("length %d, want %d", len(got), len(orig)+len(opts))
			}
			var before, after dns.Msg
			before.Unpack(orig)
			if err := after.Unpack(got); err != nil {
				t.Fatalf("unpack: %v", err)
			}
			if len(after.Answer) != len(before.Answer) || len(after.Ns) != len(before.Ns) || len(after.Extra) != len(before.Extra) {
				t.Fatalf("sections changed:\n%v\n%v", &before, &after)
			}
			o := after.IsEdns0()
			if o == nil || len(o.Option) != 2 || !o.Do() {
				t.Fatalf("OPT %v", o)
			}
			if n, ok := o.Option[0].(*dns.EDNS0_NSID); !ok || n.Nsid != "6e7331" {
				t.Errorf("NSID %v", o.Option[0])
			}
			if e, ok := o.Option[1].(*dns.EDNS0_EDE); !ok || e.InfoCode != EDENotAuthoritative {
				t.Errorf("EDE %v", o.Option[1])
			}
		})
	}
}

func TestShrink(t *testing.T) {
	glue, _ := dns.NewRR("ns1.example.test. 60 IN A 192.0.2.53")
	for _, edns := range []bool{true, false} {
		b := replyWith(t, edns, glue)
		if edns {
			b, _ = AddOptions(b, AppendOption(nil, OptionCookie, make([]byte, 24)))
		}
		var m dns.Msg
		if err := m.Unpack(Shrink(b)); err != nil {
			t.Fatal(err)
		}
		if !m.Truncated || len(m.Question) != 1 || len(m.Answer)+len(m.Ns) != 0 {
			t.Errorf("edns %v: %v", edns, &m)
		}
		o := m.IsEdns0()
		if (o != nil) != edns || edns && (len(o.Option) != 1 || !o.Do()) {
			t.Errorf("edns %v: OPT %v", edns, o)
		}
		if !edns && len(m.Extra) != 0 {
			t.Errorf("additional records left: %v", m.Extra)
		}
	}
}

// Whatever a handler returns, adding options and shrinking do not panic
// or read past the message, and added options land in the OPT record.
func FuzzReplyOptions(f *testing.F) {
	f.Add(replyWith(f, true))
	f.Add(replyWith(f, false))
	f.Add([]byte{0, 1, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, reply []byte) {
		opts := AppendOption(nil, OptionNSID, []byte("x"))
		orig := append([]byte(nil), reply...)
		got, opt := AddOptions(append([]byte(nil), reply...), opts)
		if opt >= 0 {
			if len(got) != len(orig)+len(opts) {
				t.Fatalf("grew by %d, want %d", len(got)-len(orig), len(opts))
			}
			if o, _ := FindOPT(got); o != opt {
				t.Fatalf("OPT moved from %d to %d", opt, o)
			}
		} else if !bytes.Equal(got, orig) {
			t.Fatal("reply changed without an OPT")
		}
		Shrink(got)
		for off := 0; off < len(reply); {
			_, _, next, ok := NextOption(reply, off)
			if !ok {
				break
			}
			if next <= off {
				t.Fatal("NextOption did not advance")
			}
			off = next
		}
	})
}
