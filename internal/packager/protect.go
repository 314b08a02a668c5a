package packager

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"

	"onair/internal/format/cmaf"
	"onair/internal/live"
)

// Key is one content key.
type Key struct {
	ID    live.KeyID
	Value []byte // 16 bytes (AES-128)
	// IV is the cbcs constant IV (16 bytes); other schemes ignore it.
	IV []byte
}

// KeySource gives the key that encrypts segment n. It is called on the
// Track's goroutine when a segment opens, so it must answer from memory
// (the caller fetches keys ahead). An error keeps the previous key, or
// drops media when there is none: media is never published in clear.
type KeySource interface {
	KeyFor(n int64) (Key, error)
}

// Protection encrypts a rendition. The zero Scheme (live.SchemeClear)
// means no encryption.
type Protection struct {
	Scheme live.Scheme
	Keys   KeySource
	// PSSH are encoded pssh boxes to put in protected inits (cbcs, cenc),
	// for example the W3C Clear Key one.
	PSSH [][]byte
	// PSSHFor, if set, gives the pssh boxes of the init protected with
	// key kid instead of PSSH: with key rotation a Clear Key box must
	// name the key in force.
	PSSHFor func(kid live.KeyID) [][]byte
}

// errNoKey means a segment could not get a key.
var errNoKey = errors.New("no content key")

// protector is a Track's encryption state for one publisher session.
type protector struct {
	p   Protection
	key Key                  // the key in use
	has bool                 // key is set
	ipd *mp4.InitProtectData // cbcs, cenc: from the current protected init
}

// keyFor fetches the key for segment n, keeping the current one when the
// source fails.
func (pr *protector) keyFor(n int64) (Key, error) {
	k, err := pr.p.Keys.KeyFor(n)
	if err == nil && len(k.Value) != 16 {
		err = fmt.Errorf("key %s is %d bytes, want 16", k.ID.Hex(), len(k.Value))
	}
	if err != nil {
		if pr.has {
			return pr.key, fmt.Errorf("segment %d keeps key %s: %w", n, pr.key.ID.Hex(), err)
		}
		return Key{}, fmt.Errorf("%w for segment %d: %v", errNoKey, n, err)
	}
	pr.key, pr.has = k, true
	return k, nil
}

// protectInit returns init protected with key k (cbcs, cenc) and keeps the
// protection data for the fragments.
func (pr *protector) protectInit(init []byte, k Key) ([]byte, live.Protection, error) {
	f, err := mp4.DecodeFile(bytes.NewReader(init))
	if err != nil || f.Init == nil {
		return nil, live.Protection{}, fmt.Errorf("decode init: %v", err)
	}
	var pssh []*mp4.PsshBox
	boxes := pr.p.PSSH
	if pr.p.PSSHFor != nil {
		boxes = pr.p.PSSHFor(k.ID)
	}
	for _, b := range boxes {
		box, err := mp4.DecodeBox(0, bytes.NewReader(b))
		if err != nil {
			return nil, live.Protection{}, fmt.Errorf("decode pssh: %w", err)
		}
		p, ok := box.(*mp4.PsshBox)
		if !ok {
			return nil, live.Protection{}, fmt.Errorf("pssh data holds a %s box", box.Type())
		}
		pssh = append(pssh, p)
	}
	iv := k.IV
	if pr.p.Scheme == live.SchemeCENC {
		iv = make([]byte, 8) // CMAF: 8-byte per-sample IVs; the fragments draw their own
	}
	ipd, err := mp4.InitProtect(f.Init, k.Value, iv, string(pr.p.Scheme), mp4.UUID(k.ID[:]), pssh)
	if err != nil {
		return nil, live.Protection{}, fmt.Errorf("protect init: %w", err)
	}
	var buf bytes.Buffer
	if err := f.Init.Encode(&buf); err != nil {
		return nil, live.Protection{}, fmt.Errorf("encode protected init: %w", err)
	}
	pr.ipd = ipd
	lp := live.Protection{Scheme: pr.p.Scheme, Key: k.ID}
	if len(boxes) > 0 {
		lp.PSSH = base64.StdEncoding.EncodeToString(boxes[0])
	}
	return buf.Bytes(), lp, nil
}

// encryptFragment builds, encrypts (cbcs, cenc) and encodes one chunk.
func (pr *protector) encryptFragment(seq uint32, decodeTime uint64, samples []cmaf.Sample) ([]byte, error) {
	f, err := cmaf.NewFragment(seq, decodeTime, samples)
	if err != nil {
		return nil, err
	}
	iv := pr.key.IV
	if pr.p.Scheme == live.SchemeCENC {
		// A fresh random 8-byte IV per chunk; samples count up from it.
		// Random rather than derived from numbers: both pipelines and all
		// renditions share the key, and CTR must never reuse a counter.
		iv = make([]byte, 8)
		if _, err := rand.Read(iv); err != nil {
			return nil, fmt.Errorf("draw iv: %w", err)
		}
	}
	// The encryptor places saio's offset from the boxes' sizes as they
	// are now: shrink the trun first, not at Encode.
	if err := f.Moof.Traf.OptimizeTfhdTrun(); err != nil {
		return nil, fmt.Errorf("optimize trun: %w", err)
	}
	f.EncOptimize = mp4.OptimizeNone
	enc, err := pr.ipd.NewFragmentEncryptor(pr.key.Value, iv)
	if err != nil {
		return nil, fmt.Errorf("fragment encryptor: %w", err)
	}
	if err := enc.EncryptFragment(f); err != nil {
		return nil, fmt.Errorf("encrypt fragment: %w", err)
	}
	return cmaf.EncodeFragment(f)
}

// SegmentIV is the AES-128 IV of whole segment n: its media sequence
// number as a 128-bit big-endian integer, the HLS default (RFC 8216bis
// section 5.2), so playlists need no IV attribute.
func SegmentIV(n int64) []byte {
	iv := make([]byte, 16)
	binary.BigEndian.PutUint64(iv[8:], uint64(n))
	return iv
}

// partIV is the AES-128 IV of part p of segment n. Parts of AES-128
// renditions are not listed in playlists (whole-segment encryption has
// no partial segments) but are encrypted all the same: nothing is ever
// stored or served in clear. The top bit keeps the IVs apart from
// SegmentIV's.
func partIV(n int64, p int) []byte {
	iv := make([]byte, 16)
	binary.BigEndian.PutUint64(iv[0:], 1<<63|uint64(p))
	binary.BigEndian.PutUint64(iv[8:], uint64(n))
	return iv
}

// EncryptAES128 encrypts data with AES-128-CBC and PKCS#7 padding, as HLS
// METHOD=AES-128 expects.
func EncryptAES128(key, iv, data []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes-128: %w", err)
	}
	pad := aes.BlockSize - len(data)%aes.BlockSize
	out := make([]byte, len(data)+pad)
	copy(out, data)
	for i := len(data); i < len(out); i++ {
		out[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, out)
	return out, nil
}

// DecryptAES128 reverses EncryptAES128 (for tests and tools).
func DecryptAES128(key, iv, data []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes-128: %w", err)
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("aes-128: %d bytes is not a whole number of blocks", len(data))
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	pad := int(out[len(out)-1])
	if pad == 0 || pad > aes.BlockSize || pad > len(out) {
		return nil, errors.New("aes-128: bad padding")
	}
	for _, b := range out[len(out)-pad:] {
		if int(b) != pad {
			return nil, errors.New("aes-128: bad padding")
		}
	}
	return out[:len(out)-pad], nil
}
