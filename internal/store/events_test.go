package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func TestEventsNewestFirstPerChannel(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close()
	for i, e := range []Event{
		{Kind: "edge.manifest_age.raised", Channel: "news", Reason: "playlists stopped advancing"},
		{Kind: "edge.manifest_age.raised", Channel: "sport", Reason: "playlists stopped advancing"},
		{Kind: "edge.manifest_age.cleared", Channel: "news", Reason: "playlists advance again", Data: map[string]any{"age_s": 0.2}},
	} {
		e.At = time.Unix(1_800_000_000+int64(i), 0).UTC()
		if err := s.PublishEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	news, err := s.Events(ctx, "news", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(news) != 2 || news[0].Kind != "edge.manifest_age.cleared" || news[1].Kind != "edge.manifest_age.raised" {
		t.Fatalf("news events %+v, want cleared then raised", news)
	}
	if news[0].Data["age_s"] != 0.2 {
		t.Errorf("event data %v lost", news[0].Data)
	}
	if all, _ := s.Events(ctx, "", 2); len(all) != 2 || all[0].Channel != "news" || all[1].Channel != "sport" {
		t.Errorf("newest two events %+v", all)
	}
	for _, bad := range []Event{
		{Kind: "", Reason: "x"},
		{Kind: "a.b", Reason: ""},
		{Kind: "a..b", Reason: "x"},
		{Kind: "a.>", Reason: "x"},
		{Kind: "a", Channel: "news.*", Reason: "x"},
	} {
		if err := s.PublishEvent(ctx, bad); err == nil || !strings.HasPrefix(err.Error(), "store: ") {
			t.Errorf("PublishEvent(%+v) = %v, want a store error", bad, err)
		}
	}
}

// A standalone edge publishes over plain NATS; a store on the same
// server keeps the events.
func TestDialEventsReachesTheStore(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	ctx := context.Background()
	s, err := Open(ctx, Config{URL: ns.ClientURL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := DialEvents(ns.ClientURL(), "test edge")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Publish(Event{Kind: "edge.manifest_age.raised", Channel: "news", Source: "edge", Reason: "stale"}); err != nil {
		t.Fatal(err)
	}
	p.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs, err := s.Events(ctx, "news", 1)
		if err == nil && len(evs) == 1 && evs[0].Source == "edge" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("event not stored: %v %v", evs, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := DialEvents("nats://127.0.0.1:1", "x"); err == nil {
		t.Error("DialEvents to a closed port succeeded")
	}
}
