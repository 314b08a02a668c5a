package packager

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"onair/internal/live"
	"onair/internal/media"
)

// fixedKeys is a KeySource with one key per rotation period of every
// segments (0: one key), or an error.
type fixedKeys struct {
	keys  []Key
	every int64
	err   error
}

func (k fixedKeys) KeyFor(n int64) (Key, error) {
	if k.err != nil {
		return Key{}, k.err
	}
	if k.every == 0 {
		return k.keys[0], nil
	}
	return k.keys[(n/k.every)%int64(len(k.keys))], nil
}

func testKey(b byte) Key {
	k := Key{Value: bytes.Repeat([]byte{b}, 16), IV: bytes.Repeat([]byte{b + 1}, 16)}
	for i := range k.ID {
		k.ID[i] = b + byte(i)
	}
	return k
}

// framemd5 decodes a file with ffmpeg and returns its per-frame hashes
// (decode errors are tolerated: encrypted media may not decode at all).
func framemd5(t *testing.T, path string) string {
	t.Helper()
	out, _ := exec.Command("ffmpeg", "-v", "quiet", "-nostdin", "-i", path, "-map", "0:0", "-f", "framemd5", "-").Output()
	var lines []string
	for l := range bytes.SplitSeq(out, []byte("\n")) {
		if len(l) > 0 && l[0] != '#' {
			lines = append(lines, string(l))
		}
	}
	return string(bytes.Join([][]byte{[]byte(""), bytes.Join(toBytes(lines), []byte("\n"))}, nil))
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// decryptCENC decrypts init+segment with mp4ff and returns the clear
// concatenation.
func decryptCENC(t *testing.T, init []byte, segs [][]byte, key []byte) []byte {
	t.Helper()
	f, err := mp4.DecodeFile(bytes.NewReader(init))
	if err != nil {
		t.Fatal(err)
	}
	di, err := mp4.DecryptInit(f.Init)
	if err != nil {
		t.Fatalf("decrypt init: %v", err)
	}
	var out bytes.Buffer
	if err := f.Init.Encode(&out); err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		sf, err := mp4.DecodeFile(bytes.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		for _, ms := range sf.Segments {
			if err := mp4.DecryptSegment(ms, di, key); err != nil {
				t.Fatalf("decrypt segment: %v", err)
			}
			if err := ms.Encode(&out); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out.Bytes()
}

// TestProtectedRenditions packages real encodes with each scheme and checks
// what a viewer gets: without the key ffmpeg cannot reproduce the
// pictures or sound; with it (mp4ff for CENC, AES-CBC for AES-128) every
// segment and every part decodes to exactly the clear packaging's frames.
func TestProtectedRenditions(t *testing.T) {
	const seconds = 4.5
	h264 := encodeVideo(t, "libx264", "320x180", seconds, 30, 60)
	frames, asc := encodeAAC(t, seconds, 48000)
	key := testKey(0x11)
	video := func() (Rendition, []media.Unit) {
		return videoRendition("360p30", 30), videoUnits(h264, 30, anchorSeg*segTicks)
	}
	audio := func() (Rendition, []media.Unit) {
		return Rendition{Name: "audio", Track: media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, AudioConfig: asc,
			SampleRate: 48000, Channels: 2}}, audioUnits(frames, 48000, anchorSeg*segTicks)
	}
	for _, scheme := range []live.Scheme{live.SchemeCBCS, live.SchemeCENC, live.SchemeAES128} {
		for _, mk := range []func() (Rendition, []media.Unit){video, audio} {
			r, units := mk()
			t.Run(string(scheme)+"/"+r.Name, func(t *testing.T) {
				dir := t.TempDir()
				clear := newFixture(t, Config{}, nil)
				clear.write(t, r, units)
				clearInit := clear.get(t, live.InitKey("ch", r.Name, "init.mp4"))
				var clearAll []byte
				clearAll = append(clearAll, clearInit...)
				for _, s := range clear.snapshot(t, r.Name).Segments {
					clearAll = append(clearAll, clear.get(t, live.SegmentKey("ch", r.Name, s.Number))...)
				}
				want := framemd5(t, writeFile(t, dir, "clear.mp4", clearAll))
				if want == "" {
					t.Fatal("clear media did not decode")
				}

				f := newFixture(t, Config{}, nil)
				r.Protect = &Protection{Scheme: scheme, Keys: fixedKeys{keys: []Key{key}}}
				f.write(t, r, units)
				snap := f.snapshot(t, r.Name)
				if snap.Info.Protection.Scheme != scheme {
					t.Fatalf("index protection %+v, want scheme %s", snap.Info.Protection, scheme)
				}
				init := f.get(t, live.InitKey("ch", r.Name, "init.mp4"))
				var segs, parts [][]byte
				encAll := append([]byte(nil), init...)
				for _, s := range snap.Segments {
					seg := f.get(t, live.SegmentKey("ch", r.Name, s.Number))
					if mem, ok := snapData(f, r.Name, s.Number, -1); ok && !bytes.Equal(mem, seg) {
						t.Errorf("segment %d: memory and storage differ", s.Number)
					}
					segs = append(segs, seg)
					encAll = append(encAll, seg...)
					for i := range s.Parts {
						parts = append(parts, f.get(t, live.PartKey("ch", r.Name, s.Number, i)))
					}
				}
				if got := framemd5(t, writeFile(t, dir, "enc.mp4", encAll)); got == want {
					t.Fatal("encrypted media decodes to the clear frames without a key")
				}

				var decSegs, decParts []byte
				switch scheme {
				case live.SchemeAES128:
					if !bytes.Equal(init, clearInit) {
						t.Error("AES-128 init differs from the clear init (it must stay clear: EXT-X-MAP precedes EXT-X-KEY)")
					}
					if snap.Segments[0].Key != key.ID {
						t.Errorf("segment key %x, want %x", snap.Segments[0].Key, key.ID)
					}
					decSegs, decParts = append([]byte(nil), init...), append([]byte(nil), init...)
					pi := 0
					for i, s := range snap.Segments {
						d, err := DecryptAES128(key.Value, SegmentIV(s.Number), segs[i])
						if err != nil {
							t.Fatalf("segment %d: %v", s.Number, err)
						}
						decSegs = append(decSegs, d...)
						for p := range s.Parts {
							d, err := DecryptAES128(key.Value, partIV(s.Number, p), parts[pi])
							if err != nil {
								t.Fatalf("part %d.%d: %v", s.Number, p, err)
							}
							decParts = append(decParts, d...)
							pi++
						}
					}
				default:
					if snap.Info.Protection.Key != key.ID {
						t.Errorf("index KID %x, want %x", snap.Info.Protection.Key, key.ID)
					}
					entry := "encv"
					if r.Track.Kind == media.KindAudio {
						entry = "enca"
					}
					if !bytes.Contains(init, []byte(entry)) || !bytes.Contains(init, []byte(scheme)) {
						t.Fatalf("init lacks %s/%s", entry, scheme)
					}
					decSegs = decryptCENC(t, init, segs, key.Value)
					decParts = decryptCENC(t, init, parts, key.Value)
				}
				if got := framemd5(t, writeFile(t, dir, "segs.mp4", decSegs)); got != want {
					t.Error("decrypted segments do not decode to the clear frames")
				}
				if got := framemd5(t, writeFile(t, dir, "parts.mp4", decParts)); got != want {
					t.Error("decrypted parts do not decode to the clear frames")
				}
			})
		}
	}
}

func snapData(f *fixture, rendition string, n int64, p int) ([]byte, bool) {
	ch, ok := f.index.Lookup("ch")
	if !ok {
		return nil, false
	}
	r, ok := ch.Lookup(rendition)
	if !ok {
		return nil, false
	}
	return r.Data(n, p)
}

// TestKeyRotationAES128 rotates the AES-128 key every segment: each
// segment records its own key ID and decrypts only with its key.
func TestKeyRotationAES128(t *testing.T) {
	units := videoUnits(encodeVideo(t, "libx264", "160x90", 6.5, 30, 60), 30, anchorSeg*segTicks)
	keys := []Key{testKey(0x21), testKey(0x42)}
	r := videoRendition("160p30", 30)
	r.Protect = &Protection{Scheme: live.SchemeAES128, Keys: fixedKeys{keys: keys, every: 1}}
	f := newFixture(t, Config{}, nil)
	f.write(t, r, units)
	snap := f.snapshot(t, r.Name)
	if len(snap.Segments) < 3 {
		t.Fatalf("%d segments", len(snap.Segments))
	}
	for _, s := range snap.Segments {
		k := keys[s.Number%2]
		if s.Key != k.ID {
			t.Errorf("segment %d key %x, want %x", s.Number, s.Key, k.ID)
		}
		seg := f.get(t, live.SegmentKey("ch", r.Name, s.Number))
		if _, err := DecryptAES128(k.Value, SegmentIV(s.Number), seg); err != nil {
			t.Errorf("segment %d does not decrypt with its key: %v", s.Number, err)
		}
		other := keys[(s.Number+1)%2]
		if d, err := DecryptAES128(other.Value, SegmentIV(s.Number), seg); err == nil && bytes.HasPrefix(d[4:], []byte("styp")) {
			t.Errorf("segment %d decrypts with the other key", s.Number)
		}
	}
}

// TestKeyRotationCENC: with cbcs and cenc a new key (every segment here)
// brings a new protected init named after its first segment, whose tenc
// carries that key's ID; no discontinuity is marked (the media is the
// same); each segment decrypts with its own key and its init, and the
// frames are those of the clear packaging.
func TestKeyRotationCENC(t *testing.T) {
	h264 := encodeVideo(t, "libx264", "160x90", 6.5, 30, 60)
	r := videoRendition("160p30", 30)
	clear := newFixture(t, Config{}, nil)
	clear.write(t, r, videoUnits(h264, 30, anchorSeg*segTicks))
	keys := []Key{testKey(0x21), testKey(0x42)}
	for _, scheme := range []live.Scheme{live.SchemeCBCS, live.SchemeCENC} {
		t.Run(string(scheme), func(t *testing.T) {
			r := videoRendition("160p30", 30)
			r.Protect = &Protection{Scheme: scheme, Keys: fixedKeys{keys: keys, every: 1},
				PSSHFor: func(kid live.KeyID) [][]byte { return [][]byte{testPSSH(kid)} }}
			f := newFixture(t, Config{}, nil)
			f.write(t, r, videoUnits(h264, 30, anchorSeg*segTicks))
			snap := f.snapshot(t, r.Name)
			if len(snap.Segments) < 3 {
				t.Fatalf("%d segments", len(snap.Segments))
			}
			inits := map[string]bool{}
			for i, s := range snap.Segments {
				k := keys[s.Number%2]
				if s.Key != k.ID {
					t.Errorf("segment %d key %x, want %x", s.Number, s.Key, k.ID)
				}
				if i > 0 && s.Discontinuity {
					t.Errorf("segment %d marked discontinuous by a key change", s.Number)
				}
				inits[s.Init] = true
				init := f.get(t, live.InitKey("ch", r.Name, s.Init))
				if !bytes.Contains(init, k.ID[:]) || bytes.Contains(init, keys[(s.Number+1)%2].ID[:]) {
					t.Errorf("segment %d: init %s does not name its key alone", s.Number, s.Init)
				}
				if !bytes.Contains(init, testPSSH(k.ID)) {
					t.Errorf("segment %d: init %s lacks the pssh of its key", s.Number, s.Init)
				}
				seg := f.get(t, live.SegmentKey("ch", r.Name, s.Number))
				clearSeg := clear.get(t, live.SegmentKey("ch", r.Name, s.Number))
				clearInit := clear.get(t, live.InitKey("ch", r.Name, "init.mp4"))
				dir := t.TempDir()
				want := framemd5(t, writeFile(t, dir, "clear.mp4", append(append([]byte(nil), clearInit...), clearSeg...)))
				if got := framemd5(t, writeFile(t, dir, "dec.mp4", decryptCENC(t, init, [][]byte{seg}, k.Value))); got != want || want == "" {
					t.Errorf("segment %d does not decrypt to the clear frames with its key", s.Number)
				}
			}
			if len(inits) != len(snap.Segments) {
				t.Errorf("%d inits for %d segments with a key each", len(inits), len(snap.Segments))
			}
		})
	}
}

// TestNoKeyNoClearMedia: a key source that fails before any key was
// served makes the Track drop media; nothing is published in clear.
func TestNoKeyNoClearMedia(t *testing.T) {
	units := videoUnits(encodeVideo(t, "libx264", "160x90", 2.5, 30, 60), 30, anchorSeg*segTicks)
	for _, scheme := range []live.Scheme{live.SchemeCBCS, live.SchemeAES128} {
		t.Run(string(scheme), func(t *testing.T) {
			r := videoRendition("160p30", 30)
			r.Protect = &Protection{Scheme: scheme, Keys: fixedKeys{err: errors.New("key server down")}}
			f := newFixture(t, Config{}, nil)
			f.write(t, r, units)
			keys, err := f.store.List(t.Context(), "ch/")
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if filepath.Ext(k) == ".m4s" {
					t.Errorf("object %s published without a key", k)
				}
			}
			if got := metricValue(t, f.reg, "onair_packager_dropped_units_total", map[string]string{"reason": "no_key"}); got == 0 {
				t.Error("no drops counted with reason no_key")
			}
		})
	}
}

func TestOpenRejectsBadProtection(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	for _, p := range []*Protection{{Scheme: "rot13", Keys: fixedKeys{}}, {Scheme: live.SchemeCENC}} {
		r := videoRendition("v", 30)
		r.Protect = p
		if _, err := f.p.Open("ch", r); err == nil {
			t.Errorf("Open with %+v succeeded", p)
		}
	}
}

// testPSSH is a version-1 common-system pssh box naming kid.
func testPSSH(kid live.KeyID) []byte {
	b := []byte{0, 0, 0, 52, 'p', 's', 's', 'h', 1, 0, 0, 0,
		0x10, 0x77, 0xef, 0xec, 0xc0, 0xb2, 0x4d, 0x02, 0xac, 0xe3, 0x3c, 0x1e, 0x52, 0xe2, 0xfb, 0x4b,
		0, 0, 0, 1}
	b = append(b, kid[:]...)
	return append(b, 0, 0, 0, 0)
}
