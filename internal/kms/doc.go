// Package kms seals small secrets (content keys, data keys) under a
// key-encryption key (KEK) held by a key management backend, so that no
// secret is ever stored in plain text: envelope encryption.
//
// # Interface
//
// A KMS encrypts a plaintext of at most MaxPlaintext bytes into a blob and
// decrypts it back. Every call takes additional authenticated data (AAD)
// that binds the blob to its use, for example "channel/kid": a blob
// decrypts only with the AAD it was made with, so a blob copied to another
// record fails. GenerateDataKey returns a fresh 32-byte data key and the
// same key sealed, for callers that encrypt bulk data themselves. Rewrap
// re-encrypts a blob under the backend's current KEK.
//
// # Blob
//
// Blobs are self-describing (version 1, all lengths in bytes):
//
//	blob    = magic version backend kek nonce sealed
//	magic   = "okms"
//	version = %x01
//	backend = len name        ; len one byte, name 1-32 of [a-z0-9]: "local", "pkcs11"
//	kek     = len id          ; len one byte, id 1-64 of [A-Za-z0-9._-]
//	nonce   = %x0c 12OCTET    ; the AES-GCM nonce
//	sealed  = ciphertext tag  ; AES-256-GCM (NIST SP 800-38D), 16-byte tag
//
// The GCM additional data is the header without the nonce (magic through
// kek) followed by the caller's AAD, so a blob whose backend or KEK id was
// edited fails like one whose ciphertext was. The nonce itself is
// authenticated by GCM. Nonces are random: at most 2^32 blobs per KEK
// (SP 800-38D section 8.3), far beyond a keyring's life for content keys.
// ParseBlob reads the header without decrypting (to report which KEK a
// stored blob uses).
//
// # Local backend
//
// Local holds a Keyring: AES-256 KEKs, each with an id. One is current and
// encrypts new blobs; all of them decrypt, so rotating the KEK
// (RotateKeyringFile) needs no re-encryption. Rewrap moves a blob to the
// current KEK, after which an old KEK can be removed from the keyring.
// The keyring comes from a file (ReadKeyringFile; EnsureKeyringFile
// creates one on first start) or from the environment (ParseKeyringEnv).
// Keyring file format, one KEK per line:
//
//	# comment
//	kek-20261101-9f3a q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80= current
//	kek-20261001-41c2 3q2+796tvu/erb7v3q2+796tvu/erb7v3q2+796tvu8=
//
// Fields are separated by spaces or tabs: the id, the key in standard
// base64 (RFC 4648 section 4, padded; 32 bytes decoded), and optionally
// the word "current". At most one line is marked current; without a mark
// the first KEK is current. Blank lines and lines starting with '#' are
// ignored; ids are unique. The file must be a regular file that neither
// group nor others may read or write (mode 0600 or stricter): a looser
// mode is refused. The environment form (ONAIR_KEK) is "id:base64",
// several separated by commas, the first current.
//
// The PKCS#11 backend (an HSM; the KEK never leaves it) is in the
// subpackage pkcs11kms, which needs cgo.
//
// # Imports and concurrency
//
// kms imports only the standard library. Local and Keyring are immutable
// once built; a Local is safe for concurrent use. Implementations of KMS
// must be safe for concurrent use.
package kms
