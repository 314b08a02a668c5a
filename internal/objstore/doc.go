// Package objstore stores immutable media objects (init segments, segments,
// parts) under slash-separated keys. The filesystem backend is the default;
// other backends (S3) implement the same Store interface.
//
// Keys are validated by ValidKey: relative, slash-separated, made of
// [A-Za-z0-9._-] elements, never "." or "..", so a key can never escape the
// store's root.
//
// Concurrency: every Store is safe for concurrent use. objstore imports no
// internal package.
package objstore
