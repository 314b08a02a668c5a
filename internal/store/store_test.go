package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"onair/internal/media"
)

func openTest(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestChannelsPersistAcrossRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	c := Channel{Name: "news", StreamKey: "k1", SRTPassphrase: "p1234567890", Enabled: true, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	if err := s.CreateChannel(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateChannel(ctx, c); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: got %v, want ErrExists", err)
	}
	epoch := media.Epoch{Wall: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	if got, err := s.SetEpoch(ctx, "news", epoch); err != nil || !got.Wall.Equal(epoch.Wall) {
		t.Fatalf("SetEpoch = %v, %v", got, err)
	}
	// First writer wins.
	if got, err := s.SetEpoch(ctx, "news", media.Epoch{Wall: epoch.Wall.Add(time.Hour)}); err != nil || !got.Wall.Equal(epoch.Wall) {
		t.Fatalf("second SetEpoch = %v, %v; want the first epoch", got, err)
	}
	s.Close()

	s = openTest(t, dir)
	defer s.Close()
	got, err := s.GetChannel(ctx, "news")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("after restart got %+v, want %+v", got, c)
	}
	e, ok, err := s.Epoch(ctx, "news")
	if err != nil || !ok || !e.Wall.Equal(epoch.Wall) {
		t.Fatalf("epoch after restart = %v %v %v", e, ok, err)
	}
	list, err := s.ListChannels(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list = %v, %v", list, err)
	}
	if err := s.DeleteChannel(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetChannel(ctx, "news"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if _, ok, _ := s.Epoch(ctx, "news"); ok {
		t.Fatal("epoch survived channel delete")
	}
	if err := s.DeleteChannel(ctx, "news"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	if list, err := s.ListChannels(ctx); err != nil || len(list) != 0 {
		t.Fatalf("list after delete = %v, %v", list, err)
	}
}
