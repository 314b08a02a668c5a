package geo

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

func TestHolderZero(t *testing.T) {
	for _, h := range []*Holder{{}, NewHolder(nil)} {
		if got, ok := h.Country(netip.MustParseAddr("203.0.113.1")); ok {
			t.Errorf("empty Holder: Country = %q, true; want unknown", got)
		}
		if h.Load() != nil {
			t.Errorf("empty Holder: Load() = %v, want nil", h.Load())
		}
	}
}

func TestHolderSwap(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "country.mmdb")
	write := func(b []byte) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := netip.MustParseAddr("203.0.113.1")
	country := func(h *Holder) string {
		iso, _ := h.Country(a)
		return iso
	}

	h := &Holder{}
	write(buildDB(t, 6, 28, []network{{"203.0.113.0/24", countryRecord("DE")}}))
	info, err := h.Swap(path)
	if err != nil {
		t.Fatalf("Swap: %v", err)
	}
	if info.Type != "GeoLite2-Country" || info.IPVersion != 6 {
		t.Errorf("Swap info = %+v", info)
	}
	if got := country(h); got != "DE" {
		t.Fatalf("after first Swap: %q, want DE", got)
	}
	first := h.Load()

	// A corrupt file is refused and the current database stays.
	write([]byte("<html>503</html>"))
	if _, err := h.Swap(path); !errors.Is(err, ErrInvalidDatabase) {
		t.Errorf("Swap(corrupt) error = %v, want ErrInvalidDatabase", err)
	}
	if _, err := h.Swap(filepath.Join(dir, "missing.mmdb")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Swap(missing) error = %v, want ErrNotExist", err)
	}
	if got := country(h); got != "DE" || h.Load() != first {
		t.Errorf("after failed Swaps: %q, want DE from the first database", got)
	}

	// A new file (written in place) replaces it; the old DB keeps answering
	// for whoever still holds it.
	write(buildDB(t, 6, 28, []network{{"203.0.113.0/24", countryRecord("AT")}}))
	if _, err := h.Swap(path); err != nil {
		t.Fatalf("second Swap: %v", err)
	}
	if got := country(h); got != "AT" {
		t.Errorf("after second Swap: %q, want AT", got)
	}
	if got, _ := first.Country(a); got != "DE" {
		t.Errorf("old DB after Swap: %q, want DE", got)
	}

	if prev := h.Store(nil); prev == nil || prev == first {
		t.Errorf("Store(nil) returned %v, want the second database", prev)
	}
	if got, ok := h.Country(a); ok {
		t.Errorf("after Store(nil): %q, true; want unknown", got)
	}
}

// TestHolderSwapWhileLookingUp swaps databases while readers look up:
// every answer comes from one database or the other, never unknown (run
// with -race).
func TestHolderSwapWhileLookingUp(t *testing.T) {
	dbs := make([]string, 2)
	for i, iso := range []string{"DE", "AT"} {
		dbs[i] = writeFile(t, iso+".mmdb", buildDB(t, 6, 28, []network{
			{"203.0.113.0/24", countryRecord(iso)},
			{"2001:db8::/32", countryRecord(iso)},
		}))
	}
	first, err := Open(dbs[0])
	if err != nil {
		t.Fatal(err)
	}
	h := NewHolder(first)

	const readers, lookups, swaps = 4, 2000, 40
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan string, readers)
	for i := range readers {
		wg.Go(func() {
			addr := netip.MustParseAddr("203.0.113.7")
			if i%2 == 1 {
				addr = netip.MustParseAddr("2001:db8::7")
			}
			for n := 0; n < lookups || !stop.Load(); n++ {
				iso, ok := h.Country(addr)
				if !ok || (iso != "DE" && iso != "AT") {
					errs <- iso
					return
				}
			}
		})
	}
	for i := range swaps {
		if _, err := h.Swap(dbs[(i+1)%2]); err != nil {
			t.Errorf("Swap #%d: %v", i, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for iso := range errs {
		t.Errorf("lookup during swaps = %q, want DE or AT", iso)
	}
	if got, _ := h.Country(netip.MustParseAddr("203.0.113.7")); got != "DE" {
		t.Errorf("after %d swaps: %q, want DE", swaps, got)
	}
}
