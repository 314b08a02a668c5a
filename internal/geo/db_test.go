package geo

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCountry(t *testing.T) {
	cases := []struct {
		addr   string
		want   string // "" = unknown
		v4Only bool   // in an IPv4-only database the answer is unknown
	}{
		{addr: "203.0.113.1", want: "DE"},
		{addr: "203.0.113.255", want: "DE"},
		{addr: "198.51.100.7", want: "US"},
		{addr: "2001:db8::1", want: "FR", v4Only: true},
		{addr: "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", want: "FR", v4Only: true},
		{addr: "2001:db8::1%eth0", want: "FR", v4Only: true},
		{addr: "::ffff:203.0.113.9", want: "DE"}, // IPv4-mapped IPv6
		{addr: "::ffff:198.51.100.1", want: "US"},
		{addr: "192.0.2.1", want: "GB"},                       // registered_country only
		{addr: "198.18.0.1", want: "IT"},                      // country without iso_code
		{addr: "198.18.1.1", want: "CH"},                      // lower case in the data
		{addr: "198.18.2.1", want: ""},                        // "A1" is no country code
		{addr: "198.18.3.1", want: ""},                        // continent only
		{addr: "203.0.114.1", want: ""},                       // next network: not in the database
		{addr: "8.8.8.8", want: ""},                           // not in the database
		{addr: "2001:db9::1", want: ""},                       // not in the database
		{addr: "::1", want: ""},                               // loopback
		{addr: "::", want: ""},                                // unspecified
		{addr: "2002:cb00:7101::1", want: "DE", v4Only: true}, // 6to4 of 203.0.113.1, aliased by the writer
	}
	dbs := []struct {
		name       string
		ipVersion  int
		recordSize int
	}{
		{"v6-24", 6, 24},
		{"v6-28", 6, 28},
		{"v6-32", 6, 32},
		{"v4-24", 4, 24},
	}
	for _, d := range dbs {
		t.Run(d.name, func(t *testing.T) {
			db, err := OpenBytes(buildDB(t, d.ipVersion, d.recordSize, testNetworks()))
			if err != nil {
				t.Fatalf("OpenBytes: %v", err)
			}
			for _, tc := range cases {
				want := tc.want
				if d.ipVersion == 4 && tc.v4Only {
					want = ""
				}
				got, ok := db.Country(netip.MustParseAddr(tc.addr))
				if ok != (want != "") || got != want {
					t.Errorf("Country(%s) = %q, %v; want %q, %v", tc.addr, got, ok, want, want != "")
				}
			}
			if got, ok := db.Country(netip.Addr{}); ok {
				t.Errorf("Country(invalid addr) = %q, true; want unknown", got)
			}
		})
	}
}

func TestNilAndClosedDB(t *testing.T) {
	var nilDB *DB
	if got, ok := nilDB.Country(netip.MustParseAddr("203.0.113.1")); ok {
		t.Errorf("nil DB: Country = %q, true; want unknown", got)
	}
	db := testDB(t)
	a := netip.MustParseAddr("203.0.113.1")
	if got, ok := db.Country(a); !ok || got != "DE" {
		t.Fatalf("before Close: Country = %q, %v; want DE", got, ok)
	}
	for i := range 2 { // Close is idempotent
		if err := db.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
		if got, ok := db.Country(a); ok {
			t.Errorf("after Close #%d: Country = %q, true; want unknown", i+1, got)
		}
	}
}

func TestInfo(t *testing.T) {
	b := buildDB(t, 6, 28, testNetworks())
	db, err := OpenBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Info{Type: "GeoLite2-Country", Built: time.Unix(1767225600, 0), IPVersion: 6, Size: len(b)}
	got := db.Info()
	if got.Type != want.Type || !got.Built.Equal(want.Built) || got.IPVersion != want.IPVersion || got.Size != want.Size {
		t.Errorf("Info() = %+v, want %+v", got, want)
	}
}

func TestOpenErrors(t *testing.T) {
	good := buildDB(t, 6, 28, testNetworks())
	// A tree node pointing past the data section: the metadata is intact,
	// so only verification finds it. The first record of the tree is at
	// offset 0; 0xff bytes make it point far outside the file.
	badTree := append([]byte(nil), good...)
	copy(badTree, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})

	dir := t.TempDir()
	cases := []struct {
		name     string
		path     string
		data     []byte // written to path when non-nil
		invalid  bool   // errors.Is ErrInvalidDatabase
		notExist bool   // errors.Is fs.ErrNotExist
		msg      string // in the error text
	}{
		{name: "missing", path: filepath.Join(dir, "missing.mmdb"), notExist: true, msg: "missing.mmdb"},
		{name: "directory", path: dir, msg: "not a regular file"},
		{name: "empty", path: filepath.Join(dir, "empty.mmdb"), data: []byte{}, invalid: true, msg: "empty"},
		{name: "garbage", path: filepath.Join(dir, "garbage.mmdb"), data: []byte("this is not a database\n"), invalid: true, msg: "invalid MaxMind DB file"},
		{name: "truncated tail", path: filepath.Join(dir, "tail.mmdb"), data: good[:len(good)-40], invalid: true, msg: "tail.mmdb"},
		{name: "truncated head", path: filepath.Join(dir, "head.mmdb"), data: good[100:], invalid: true, msg: "head.mmdb"},
		{name: "corrupt tree", path: filepath.Join(dir, "tree.mmdb"), data: badTree, invalid: true, msg: "verify"},
		{name: "html error page", path: filepath.Join(dir, "page.mmdb"), data: []byte("<html>401 Unauthorized</html>"), invalid: true, msg: "invalid MaxMind database"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.data != nil {
				if err := os.WriteFile(tc.path, tc.data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			db, err := Open(tc.path)
			if err == nil {
				t.Fatalf("Open(%s) = %v, nil; want an error", tc.path, db)
			}
			if got := errors.Is(err, ErrInvalidDatabase); got != tc.invalid {
				t.Errorf("errors.Is(%q, ErrInvalidDatabase) = %v, want %v", err, got, tc.invalid)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tc.notExist {
				t.Errorf("errors.Is(%q, fs.ErrNotExist) = %v, want %v", err, got, tc.notExist)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "open geo database") {
				t.Errorf("error %q: want it to start with %q and mention %q", err, "open geo database", tc.msg)
			}
		})
	}
}
