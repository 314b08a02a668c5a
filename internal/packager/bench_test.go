package packager

import (
	"context"
	"encoding/hex"
	"log/slog"
	"testing"
	"time"

	"onair/internal/live"
	"onair/internal/media"
)

// discardStore accepts every object and keeps none.
type discardStore struct{}

func (discardStore) Put(context.Context, string, []byte) error      { return nil }
func (discardStore) Get(context.Context, string) ([]byte, error)    { return nil, nil }
func (discardStore) Delete(context.Context, string) error           { return nil }
func (discardStore) List(context.Context, string) ([]string, error) { return nil, nil }

// BenchmarkTrackWrite measures packaging one 30 fps video frame of 20 KB
// (the segmenter hot path: sample building, part and segment emission).
func BenchmarkTrackWrite(b *testing.B) {
	sps, _ := hex.DecodeString("6764000dacb40a0cfcf80880000003008000001e078a1550")
	pps, _ := hex.DecodeString("68ef0fcb")
	p, err := New(Config{Grid: testGrid}, discardStore{}, live.NewIndex(0), slog.New(slog.DiscardHandler), nil)
	if err != nil {
		b.Fatal(err)
	}
	r := videoRendition("v", 30)
	r.Track.SPS, r.Track.PPS = sps, pps
	tr, err := p.Open("ch", r)
	if err != nil {
		b.Fatal(err)
	}
	slice := make([]byte, 20_000)
	slice[0] = 0x41
	idr := make([]byte, 20_000)
	idr[0] = 0x65
	wall := time.Now()
	b.SetBytes(int64(len(slice)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		u := media.Unit{Kind: media.KindVideo, DTS: int64(i) * 3000, NALUs: [][]byte{{0x09, 0xf0}, slice}, Wall: wall}
		if i%60 == 0 {
			u.Key, u.NALUs = true, [][]byte{sps, pps, idr}
		}
		u.PTS = u.DTS
		if err := tr.Write(u); err != nil {
			b.Fatal(err)
		}
	}
	tr.Close()
}
