// Package pkcs11kms is the kms.KMS backend for hardware security modules
// through PKCS#11 (OASIS PKCS#11 v2.40): the KEK is an AES-256 secret key
// object in a token, found by its label, and blobs are sealed and opened
// with CKM_AES_GCM inside the HSM, so the KEK never leaves it. It is tested
// against SoftHSM2 (Debian package softhsm2; module
// /usr/lib/softhsm/libsofthsm2.so).
//
// Blobs have the kms blob format with backend "pkcs11" and the key's
// label as KEK id. Rotation: create a key with a new label in the token
// and configure that label; blobs sealed under older labels still open as
// long as their key objects stay in the token, and Rewrap moves them to
// the current key.
//
// The module is loaded with dlopen through github.com/miekg/pkcs11, which
// needs cgo. Built without cgo, Open returns an error and the rest of
// onair still compiles. A PKCS#11 module is initialised once per process:
// a second HSM on the same module shares that initialisation, and Close
// finalises the module only in the HSM that initialised it, so close that
// one last.
//
// # Imports and concurrency
//
// pkcs11kms imports internal/kms and github.com/miekg/pkcs11. An HSM is
// safe for concurrent use: it keeps a small pool of PKCS#11 sessions
// (one operation at a time each), and calls wait for a free session or
// for their context.
package pkcs11kms
