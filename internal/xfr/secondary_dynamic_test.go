package xfr

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/rootline-dns/rootline/internal/zone"
)

// TestSecondaryAddRemove: zones added while Run runs are transferred at
// once; a removed zone stops being served (Changed with nil) and its
// goroutine ends; adding an origin already kept is refused.
func TestSecondaryAddRemove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &fakePrimary{t: t, serial: 4}
		var mu sync.Mutex
		changes := map[string]int{} // origin -> last serial served (0: none)
		s := NewSecondary(SecondaryOptions{Exchanger: p, Transfer: p.transfer,
			Changed: func(origin string, _, new *zone.Zone) {
				mu.Lock()
				defer mu.Unlock()
				changes[origin] = 0
				if new != nil {
					changes[origin] = int(new.SOA.Serial)
				}
			}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.Run(ctx); close(done) }()
		synctest.Wait()
		primary := []Remote{{Addr: netip.MustParseAddrPort("127.0.0.1:5300")}}
		if !s.AddZone(SecondaryZone{Origin: "X.test", Primaries: primary}) {
			t.Fatal("AddZone refused a new zone")
		}
		if s.AddZone(SecondaryZone{Origin: testOrigin, Primaries: primary}) {
			t.Fatal("AddZone took a zone twice")
		}
		synctest.Wait()
		if z := s.Zone(testOrigin); z == nil || z.SOA.Serial != 4 || changes[testOrigin] != 4 {
			t.Fatalf("added zone: %v, changes %v", z, changes)
		}
		if !s.RemoveZone(testOrigin) || s.RemoveZone(testOrigin) {
			t.Fatal("RemoveZone")
		}
		synctest.Wait()
		if s.Zone(testOrigin) != nil || changes[testOrigin] != 0 || len(s.Origins()) != 0 {
			t.Fatalf("removed zone still kept: %v %v", changes, s.Origins())
		}
		cancel()
		<-done
	})
}
