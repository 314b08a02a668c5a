package geo

import (
	"fmt"
	"net/netip"
	"sync/atomic"
)

// Holder holds the current database for hot reload: lookups go to
// whichever DB was stored last, and Swap replaces it at once without
// pausing them. Its methods are safe for concurrent use. The zero Holder
// holds no database: every lookup is unknown.
type Holder struct {
	db atomic.Pointer[DB]
}

// NewHolder returns a Holder holding db, which may be nil (no database).
func NewHolder(db *DB) *Holder {
	h := &Holder{}
	h.db.Store(db)
	return h
}

// Load returns the current database, nil if none.
func (h *Holder) Load() *DB {
	return h.db.Load()
}

// Store makes db (nil for none) current and returns the previous one.
// The previous DB is not closed: lookups that loaded it finish on it and
// the collector frees it afterwards.
func (h *Holder) Store(db *DB) (previous *DB) {
	return h.db.Swap(db)
}

// Swap opens and verifies the database at path and makes it current; on
// the lead's SIGHUP, for instance, after geoipupdate replaced the file.
// If it cannot be opened the current database stays, and the error (an
// ErrInvalidDatabase for a corrupt file) says why. It returns the new
// database's Info for the log line.
func (h *Holder) Swap(path string) (Info, error) {
	db, err := Open(path)
	if err != nil {
		return Info{}, fmt.Errorf("swap geo database: %w", err)
	}
	h.Store(db)
	return db.Info(), nil
}

// Country looks addr up in the current database; see DB.Country. ok is
// false when no database is loaded.
func (h *Holder) Country(addr netip.Addr) (iso string, ok bool) {
	return h.db.Load().Country(addr)
}
