package geo

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// maxFileSize bounds what Open reads into memory. The largest MaxMind
// database (GeoIP2 Enterprise) is well under it; a country database is
// about 10 MB.
const maxFileSize = 1 << 30

// ErrInvalidDatabase is wrapped by the errors of Open, OpenBytes and
// Holder.Swap when the data is not a valid MaxMind DB file (truncated,
// corrupt, or not a database at all).
var ErrInvalidDatabase = errors.New("invalid MaxMind database")

// Info describes a loaded database, for the log line at load.
type Info struct {
	// Type is the database_type from the metadata, such as
	// "GeoLite2-Country" or "DBIP-Country-Lite".
	Type string
	// Built is the build time from the metadata.
	Built time.Time
	// IPVersion is 4 for an IPv4-only database, 6 otherwise.
	IPVersion uint
	// Size is the database size in bytes.
	Size int
}

// DB is an opened country database. Its methods are safe for concurrent
// use.
type DB struct {
	// reader is nil after Close. The Reader is never closed itself: its
	// memory is a Go slice the collector frees once the last lookup that
	// loaded it returns.
	reader atomic.Pointer[maxminddb.Reader]
	info   Info
}

// Open reads and verifies the database file at path.
func Open(path string) (*DB, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("open geo database: %w", err)
	}
	db, err := OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("open geo database %s: %w", path, err)
	}
	return db, nil
}

// readFile reads a regular file of at most maxFileSize bytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() > maxFileSize {
		return nil, fmt.Errorf("%s: %d bytes, more than %d", path, st.Size(), maxFileSize)
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// OpenBytes opens and verifies a database held in b. The DB keeps b:
// the caller must not modify it afterwards.
func OpenBytes(b []byte) (*DB, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrInvalidDatabase)
	}
	r, err := maxminddb.OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDatabase, err)
	}
	// The specification lets description be absent; Verify insists on
	// one and would skip the checks that matter (tree, data section).
	// Metadata is a copy only Verify reads again.
	if len(r.Metadata.Description) == 0 {
		r.Metadata.Description = map[string]string{"en": "(none)"}
	}
	if err := r.Verify(); err != nil {
		return nil, fmt.Errorf("%w: verify: %w", ErrInvalidDatabase, err)
	}
	db := &DB{info: Info{
		Type:      r.Metadata.DatabaseType,
		Built:     r.Metadata.BuildTime(),
		IPVersion: r.Metadata.IPVersion,
		Size:      len(b),
	}}
	db.reader.Store(r)
	return db, nil
}

// Info describes the database.
func (db *DB) Info() Info {
	return db.info
}

// Country returns the ISO 3166-1 alpha-2 code, upper case, of the country
// addr is in, falling back to the country the network is registered in.
// ok is false when the database does not place addr: not found, an
// invalid address, an IPv6 address in an IPv4-only database, a record
// without a two-letter code, a closed or nil DB.
func (db *DB) Country(addr netip.Addr) (iso string, ok bool) {
	if db == nil || !addr.IsValid() {
		return "", false
	}
	r := db.reader.Load()
	if r == nil {
		return "", false
	}
	res := r.Lookup(addr.Unmap())
	if !res.Found() {
		return "", false
	}
	// A path decode walks past the other fields (names in several
	// languages) without decoding them: about a quarter faster than
	// decoding a two-field struct. The paths are constants so that
	// building the variadic []any does not allocate.
	var code string
	if err := res.DecodePath(&code, "country", "iso_code"); err == nil {
		if iso, ok := normalizeCode(code); ok {
			return iso, true
		}
	}
	code = ""
	if err := res.DecodePath(&code, "registered_country", "iso_code"); err != nil {
		return "", false
	}
	return normalizeCode(code)
}

// Close releases the database. Lookups already running finish normally;
// later ones report unknown. Close is idempotent and returns nil.
func (db *DB) Close() error {
	db.reader.Store(nil)
	return nil
}
