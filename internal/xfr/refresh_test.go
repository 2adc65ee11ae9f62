package xfr

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

// Refresh checks the primary at once and returns the outcome; Status
// reports it. The zone's REFRESH timer (3600 s) never fires here.
func TestSecondaryRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		primary := netip.MustParseAddrPort("127.0.0.1:5300")
		p := &fakePrimary{t: t, serial: 1}
		var tried []bool
		s := NewSecondary(SecondaryOptions{
			Zones:     []SecondaryZone{{Origin: "x.test", Primaries: []Remote{{Addr: primary}}}},
			Exchanger: p, Transfer: p.transfer,
			Transferred: func(_ string, ixfr bool, _ error) { tried = append(tried, ixfr) },
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go s.Run(ctx)
		synctest.Wait()
		p.set(func(p *fakePrimary) { p.serial = 5 })
		t0 := time.Now()
		if err := s.Refresh(ctx, "X.test."); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		if z := s.Zone(testOrigin); z == nil || z.SOA.Serial != 5 || time.Since(t0) != 0 {
			t.Fatalf("after Refresh: %v at %v", z, time.Since(t0))
		}
		st, ok := s.Status(testOrigin)
		if !ok || st.LastErr != nil || !st.Incremental || st.LastTransfer.IsZero() || st.LastOK != st.LastCheck || st.Primaries[0] != primary {
			t.Errorf("Status: %+v", st)
		}
		if len(tried) != 2 || tried[0] || !tried[1] {
			t.Errorf("transfers tried (ixfr?): %v, want [false true]", tried)
		}
		p.set(func(p *fakePrimary) { p.down = true })
		if err := s.Refresh(ctx, testOrigin); !errors.Is(err, errDown) {
			t.Errorf("Refresh with the primary down: %v", err)
		}
		if st, _ := s.Status(testOrigin); !errors.Is(st.LastErr, errDown) {
			t.Errorf("Status after a failure: %+v", st)
		}
		if err := s.Refresh(ctx, "other.test."); err == nil {
			t.Error("Refresh of a zone we do not keep succeeded")
		}
	})
}
