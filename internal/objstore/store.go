package objstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is returned by Get for a missing key.
var ErrNotFound = errors.New("object not found")

// ErrInvalidKey is returned for a key that fails ValidKey.
var ErrInvalidKey = errors.New("invalid object key")

// Store holds immutable objects.
type Store interface {
	// Put stores data under key atomically: readers see the whole object
	// or nothing.
	Put(ctx context.Context, key string, data []byte) error
	// Get returns the object's bytes or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes the object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys under prefix (which ends in "/" or is empty).
	List(ctx context.Context, prefix string) ([]string, error)
}

// ValidKey reports whether key is a safe object key.
func ValidKey(key string) error {
	if key == "" || len(key) > 512 {
		return fmt.Errorf("%w: length %d", ErrInvalidKey, len(key))
	}
	for _, el := range strings.Split(key, "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("%w: %q", ErrInvalidKey, key)
		}
		for _, c := range el {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
			if !ok {
				return fmt.Errorf("%w: %q", ErrInvalidKey, key)
			}
		}
	}
	return nil
}
