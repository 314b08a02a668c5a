package geo

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// country is a GeoIP2-shaped country or registered_country map with
// names in a few languages, so lookups skip realistic data.
func country(iso string, geonameID uint32) mmdbtype.Map {
	m := mmdbtype.Map{
		"geoname_id": mmdbtype.Uint32(geonameID),
		"names": mmdbtype.Map{
			"de": mmdbtype.String("Land " + iso),
			"en": mmdbtype.String("Country " + iso),
			"fr": mmdbtype.String("Pays " + iso),
			"ja": mmdbtype.String("国 " + iso),
		},
	}
	if iso != "" {
		m["iso_code"] = mmdbtype.String(iso)
	}
	return m
}

// countryRecord is a GeoLite2-Country record placing a network in iso,
// registered in the same country.
func countryRecord(iso string) mmdbtype.Map {
	return mmdbtype.Map{
		"continent": mmdbtype.Map{
			"code":       mmdbtype.String("EU"),
			"geoname_id": mmdbtype.Uint32(6255148),
			"names":      mmdbtype.Map{"en": mmdbtype.String("Europe")},
		},
		"country":            country(iso, 1),
		"registered_country": country(iso, 1),
	}
}

// network is one entry of a test database.
type network struct {
	cidr   string
	record mmdbtype.Map
}

// testNetworks are the networks of the standard test database.
func testNetworks() []network {
	return []network{
		{"203.0.113.0/24", countryRecord("DE")},
		{"198.51.100.0/24", countryRecord("US")},
		{"2001:db8::/32", countryRecord("FR")},
		// Only registered_country, like some satellite and anycast networks.
		{"192.0.2.0/24", mmdbtype.Map{"registered_country": country("GB", 2)}},
		// A country without iso_code: the registered country answers.
		{"198.18.0.0/24", mmdbtype.Map{"country": country("", 3), "registered_country": country("IT", 3)}},
		// Lower case in the data is upper-cased.
		{"198.18.1.0/24", countryRecord("ch")},
		// Not a two-letter code: unknown.
		{"198.18.2.0/24", countryRecord("A1")},
		// Continent only: unknown.
		{"198.18.3.0/24", mmdbtype.Map{"continent": mmdbtype.Map{"code": mmdbtype.String("AS")}}},
	}
}

// buildDB returns a database of nets with the given IP version (4 or 6)
// and record size (24, 28 or 32).
func buildDB(t testing.TB, ipVersion, recordSize int, nets []network) []byte {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoLite2-Country",
		Languages:               []string{"de", "en", "fr", "ja"},
		IPVersion:               ipVersion,
		RecordSize:              recordSize,
		IncludeReservedNetworks: true, // every test network is a documentation range
		BuildEpoch:              1767225600,
	})
	if err != nil {
		t.Fatalf("mmdbwriter.New: %v", err)
	}
	for _, n := range nets {
		if ipVersion == 4 && !netip.MustParsePrefix(n.cidr).Addr().Is4() {
			continue
		}
		_, ipnet, err := net.ParseCIDR(n.cidr)
		if err != nil {
			t.Fatalf("parse %s: %v", n.cidr, err)
		}
		if err := w.Insert(ipnet, n.record); err != nil {
			t.Fatalf("insert %s: %v", n.cidr, err)
		}
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatalf("write database: %v", err)
	}
	return buf.Bytes()
}

// writeFile writes b to name in a fresh temporary directory.
func writeFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// testDB opens the standard test database from a file.
func testDB(t testing.TB) *DB {
	t.Helper()
	db, err := Open(writeFile(t, "country.mmdb", buildDB(t, 6, 28, testNetworks())))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}
