package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCreateGet(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	for _, tc := range []struct {
		name string
		in   Session
	}{
		{"tenant", f.session("acme", "news", "s1")},
		{"no tenant", f.session("", "news", "s1")},
		{"empty pii", Session{ID: "A-b_9", Channel: "sport-2", TokenExpires: f.clk.Now().Add(time.Minute)}},
		{"unicode pii", Session{ID: NewID(), Tenant: "t", Channel: "c", TokenExpires: f.clk.Now().Add(time.Hour),
			PII: PII{IP: "2001:db8::1", UserAgent: "Ünïcode/1.0 \"quoted\"", UserID: "josé@example.com"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.s.Create(ctx, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.in
			want.TokenExpires = want.TokenExpires.UTC()
			want.Created, want.Refreshed = f.clk.Now(), f.clk.Now()
			if got != want {
				t.Fatalf("Create = %+v\nwant %+v", got, want)
			}
			back, err := f.s.Get(ctx, tc.in.Tenant, tc.in.Channel, tc.in.ID)
			if err != nil {
				t.Fatal(err)
			}
			if back != want {
				t.Fatalf("Get = %+v\nwant %+v", back, want)
			}
		})
	}
	if _, err := f.s.Create(ctx, f.session("acme", "news", "s1")); !errors.Is(err, ErrExists) {
		t.Fatalf("second Create = %v, want ErrExists", err)
	}
	if got := testutil.ToFloat64(f.s.m.created); got != 4 {
		t.Fatalf("onair_sessions_created_total = %v, want 4", got)
	}
}

func TestCreateCutsUserAgent(t *testing.T) {
	f := newFixture(t)
	in := f.session("", "news", "ua")
	in.PII.UserAgent = strings.Repeat("a", MaxUserAgent-1) + "é" + "tail"
	got, err := f.s.Create(testCtx(t), in)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("a", MaxUserAgent-1); got.PII.UserAgent != want {
		t.Fatalf("user agent cut to %d bytes %q..., want %d bytes without a split rune", len(got.PII.UserAgent), got.PII.UserAgent[len(got.PII.UserAgent)-3:], len(want))
	}
}

func TestInvalid(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	now := f.clk.Now()
	ok := f.session("acme", "news", "ok")
	mod := func(fn func(*Session)) Session { s := ok; fn(&s); return s }
	for _, tc := range []struct {
		name, msg string
		in        Session
	}{
		{"empty id", "session id", mod(func(s *Session) { s.ID = "" })},
		{"id with dot", "session id", mod(func(s *Session) { s.ID = "a.b" })},
		{"id with star", "session id", mod(func(s *Session) { s.ID = "*" })},
		{"id too long", "session id", mod(func(s *Session) { s.ID = strings.Repeat("a", 65) })},
		{"tenant upper", "tenant", mod(func(s *Session) { s.Tenant = "Acme" })},
		{"tenant underscore", "tenant", mod(func(s *Session) { s.Tenant = "_" })},
		{"tenant dot", "tenant", mod(func(s *Session) { s.Tenant = "a.b" })},
		{"no channel", "channel", mod(func(s *Session) { s.Channel = "" })},
		{"channel wildcard", "channel", mod(func(s *Session) { s.Channel = ">" })},
		{"channel leading dash", "channel", mod(func(s *Session) { s.Channel = "-news" })},
		{"no token expiry", "token_expires is required", mod(func(s *Session) { s.TokenExpires = time.Time{} })},
		{"token expired", "not in the future", mod(func(s *Session) { s.TokenExpires = now })},
		{"revoked", "cannot be revoked", mod(func(s *Session) { s.Revoked = now })},
		{"ip too long", "ip longer", mod(func(s *Session) { s.PII.IP = strings.Repeat("1", MaxIP+1) })},
		{"user id too long", "user_id longer", mod(func(s *Session) { s.PII.UserID = strings.Repeat("u", MaxUserID+1) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.Create(ctx, tc.in)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Create = %v, want ErrInvalid mentioning %q", err, tc.msg)
			}
		})
	}
	for _, k := range [][3]string{{"Acme", "news", "x"}, {"", "News", "x"}, {"", "news", "x.y"}, {"", "news", ""}, {"a", "b.c", "x"}} {
		tenant, channel, id := k[0], k[1], k[2]
		for name, err := range map[string]error{
			"Get":    func() error { _, err := f.s.Get(ctx, tenant, channel, id); return err }(),
			"Touch":  f.s.Touch(ctx, tenant, channel, id),
			"Revoke": f.s.Revoke(ctx, tenant, channel, id),
			"Check":  f.s.Check(ctx, tenant, channel, id),
		} {
			if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrRevoked) {
				t.Errorf("%s(%q, %q, %q) = %v, want ErrInvalid only", name, tenant, channel, id, err)
			}
		}
	}
	for _, k := range [][2]string{{"Acme", "news"}, {"", "a.b"}, {"", "*"}, {"_", "news"}} {
		if _, err := f.s.List(ctx, k[0], k[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("List(%q, %q) = %v, want ErrInvalid", k[0], k[1], err)
		}
		if err := f.s.DeleteChannel(ctx, k[0], k[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("DeleteChannel(%q, %q) = %v, want ErrInvalid", k[0], k[1], err)
		}
	}
	if got := testutil.ToFloat64(f.s.m.errors.WithLabelValues(opCreate)); got != 0 {
		t.Fatalf("invalid input counted as %v store errors", got)
	}
}

func TestConfig(t *testing.T) {
	n := startNATS(t)
	k := newLocal(t, "k")
	for _, tc := range []struct {
		name string
		cfg  Config
		err  string
		ttl  time.Duration
	}{
		{"defaults", Config{}, "", DefaultTTL},
		{"rounded up", Config{TTL: 1500 * time.Millisecond}, "", 2 * time.Second},
		{"too short", Config{TTL: 999 * time.Millisecond}, "under 1s", 0},
		{"negative replicas", Config{Replicas: -1}, "must not be negative", 0},
		{"same buckets", Config{Bucket: "x", KeyBucket: "x"}, "both", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(n.js, k, tc.cfg, nil, nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("New = %v, want error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.cfg.TTL != tc.ttl || s.touched.every != tc.ttl/8 {
				t.Fatalf("ttl %v, touch every %v; want %v, %v", s.cfg.TTL, s.touched.every, tc.ttl, tc.ttl/8)
			}
		})
	}
	if _, err := New(nil, k, Config{}, nil, nil); err == nil {
		t.Fatal("New without JetStream succeeded")
	}
}

func TestGetCheckMissing(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	if _, err := f.s.Get(ctx, "", "news", "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get = %v, want ErrNotFound", err)
	}
	err := f.s.Check(ctx, "", "news", "nope")
	if !errors.Is(err, ErrRevoked) || !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "missing or expired") {
		t.Fatalf("Check(missing) = %v, want ErrRevoked and ErrNotFound, 'missing or expired'", err)
	}
	f.create(t, "", "news", "live")
	if err := f.s.Check(ctx, "", "news", "live"); err != nil {
		t.Fatalf("Check(live) = %v", err)
	}
	if err := f.s.Touch(ctx, "", "news", "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Touch(missing) = %v, want ErrNotFound", err)
	}
	if err := f.s.Revoke(ctx, "", "news", "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Revoke(missing) = %v, want ErrNotFound", err)
	}
}

func TestRevoke(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	f.create(t, "acme", "news", "v1")
	f.clk.Advance(time.Minute)
	revokedAt := f.clk.Now()
	for i := range 2 { // the second is a no-op
		if err := f.s.Revoke(ctx, "acme", "news", "v1"); err != nil {
			t.Fatalf("Revoke #%d: %v", i+1, err)
		}
		f.clk.Advance(time.Minute)
	}
	got, err := f.s.Get(ctx, "acme", "news", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Revoked.Equal(revokedAt) || got.PII.UserID != "viewer-v1" {
		t.Fatalf("Get after revoke = %+v, want revoked at %v with its PII", got, revokedAt)
	}
	err = f.s.Check(ctx, "acme", "news", "v1")
	if !errors.Is(err, ErrRevoked) || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "revoked at") {
		t.Fatalf("Check(revoked) = %v, want ErrRevoked (not ErrNotFound) with the time", err)
	}
	f.clk.Advance(time.Hour) // past the touch window
	if err := f.s.Touch(ctx, "acme", "news", "v1"); !errors.Is(err, ErrRevoked) {
		t.Fatalf("Touch(revoked) = %v, want ErrRevoked", err)
	}
	if got := testutil.ToFloat64(f.s.m.revoked); got != 1 {
		t.Fatalf("onair_sessions_revoked_total = %v, want 1", got)
	}

	// The revoked record outlives the token (4 h from creation) plus the
	// leeway, not just the idle TTL... here the TTL (6 h) is longer.
	ttl := msgTTL(t, f, "acme.news.v1")
	if ttl != DefaultTTL.String() {
		t.Fatalf("revoked record Nats-TTL = %q, want the idle TTL %v (longer than the token)", ttl, DefaultTTL)
	}
	long := f.session("acme", "news", "v2")
	long.TokenExpires = f.clk.Now().Add(30 * time.Hour)
	if _, err := f.s.Create(ctx, long); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Revoke(ctx, "acme", "news", "v2"); err != nil {
		t.Fatal(err)
	}
	if got, want := msgTTL(t, f, "acme.news.v2"), (30*time.Hour + DefaultLeeway).String(); got != want {
		t.Fatalf("revoked long-token record Nats-TTL = %q, want %q (token expiry + leeway)", got, want)
	}
}

// msgTTL returns the Nats-TTL header of a session's stored message.
func msgTTL(t *testing.T, f *fixture, key string) string {
	t.Helper()
	st, err := f.n.js.Stream(testCtx(t), "KV_"+DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetLastMsgForSubject(testCtx(t), "$KV."+DefaultBucket+"."+key)
	if err != nil {
		t.Fatal(err)
	}
	return m.Header.Get("Nats-TTL")
}

func TestTouch(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	f.create(t, "", "news", "t1")
	rev := func() uint64 { return raw(t, f.n.js, DefaultBucket, "_.news.t1").Revision() }
	every := DefaultTTL / 8
	lastWrite := f.clk.Now()
	for _, tc := range []struct {
		name    string
		advance time.Duration
		writes  bool
	}{
		{"right after create", time.Second, false},
		{"inside the window", every - 2*time.Second, false},
		{"window over", every, true},
		{"again at once", 0, false},
		{"next window", every + time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.clk.Advance(tc.advance)
			before := rev()
			if err := f.s.Touch(ctx, "", "news", "t1"); err != nil {
				t.Fatal(err)
			}
			if wrote := rev() != before; wrote != tc.writes {
				t.Fatalf("Touch wrote = %v, want %v", wrote, tc.writes)
			}
			got, err := f.s.Get(ctx, "", "news", "t1")
			if err != nil {
				t.Fatal(err)
			}
			if tc.writes {
				lastWrite = f.clk.Now()
			}
			if !got.Refreshed.Equal(lastWrite) {
				t.Fatalf("Refreshed = %v, want %v (the last write)", got.Refreshed, lastWrite)
			}
		})
	}
	if got := msgTTL(t, f, "_.news.t1"); got != DefaultTTL.String() {
		t.Fatalf("touched record Nats-TTL = %q, want %v", got, DefaultTTL)
	}
}

func TestTouchCacheBounded(t *testing.T) {
	c := newTouchCache(time.Minute, 100)
	now := time.Unix(1000, 0)
	for i := range 1000 {
		c.claim(NewID(), now.Add(time.Duration(i)*time.Millisecond))
		if c.len() > 100 {
			t.Fatalf("touch cache holds %d entries, bound 100", c.len())
		}
	}
	c.revoked("r", now)
	if due, revoked := c.claim("r", now.Add(time.Hour)); due || !revoked {
		t.Fatalf("claim(revoked) = %v, %v", due, revoked)
	}
	if due, _ := c.claim("k", now); !due {
		t.Fatal("first claim not due")
	}
	if due, _ := c.claim("k", now.Add(-time.Hour)); !due {
		t.Fatal("claim with the clock set back not due")
	}
}

// TestTouchRevokeRace: touches on other nodes racing a revoke never undo it.
func TestTouchRevokeRace(t *testing.T) {
	n := startNATS(t)
	k := newLocal(t, "k")
	clk := newClock()
	admin, _ := newStore(t, n.js, k, Config{Now: clk.Now})
	ctx := testCtx(t)
	const sessions = 8
	for i := range sessions {
		in := Session{ID: string(rune('a' + i)), Channel: "news", TokenExpires: clk.Now().Add(time.Hour), PII: PII{IP: "192.0.2.1"}}
		if _, err := admin.Create(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 3 { // playback nodes, touching without throttle
		node, _ := newStore(t, n.connect(t), k, Config{Now: clk.Now, TouchCacheSize: 1})
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for i := range sessions {
					node.touched.forget(string(rune('a' + i)))
					err := node.Touch(ctx, "", "news", string(rune('a'+i)))
					if err != nil && !errors.Is(err, ErrRevoked) {
						t.Errorf("Touch: %v", err)
						return
					}
				}
			}
		})
	}
	for i := range sessions {
		if err := admin.Revoke(ctx, "", "news", string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	for i := range sessions {
		if err := admin.Check(ctx, "", "news", string(rune('a'+i))); !errors.Is(err, ErrRevoked) || errors.Is(err, ErrNotFound) {
			t.Fatalf("session %c after racing touches: Check = %v, want revoked", 'a'+i, err)
		}
	}
}

func TestList(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	ids := []string{"zz", "aa", "mm"}
	for _, id := range ids {
		f.create(t, "acme", "news", id)
		f.clk.Advance(time.Second)
	}
	f.create(t, "acme", "news2", "other-channel")
	f.create(t, "acme", "new", "prefix-channel")
	f.create(t, "", "news", "no-tenant")
	f.create(t, "beta", "news", "other-tenant")
	if err := f.s.Revoke(ctx, "acme", "news", "aa"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tenant, channel string
		want            []string
	}{
		{"acme", "news", ids},
		{"acme", "news2", []string{"other-channel"}},
		{"acme", "new", []string{"prefix-channel"}},
		{"", "news", []string{"no-tenant"}},
		{"beta", "news", []string{"other-tenant"}},
		{"gamma", "news", nil},
	} {
		got, err := f.s.List(ctx, tc.tenant, tc.channel)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, s := range got {
			gotIDs = append(gotIDs, s.ID)
			if s.Tenant != tc.tenant || s.Channel != tc.channel || s.PII.UserID != "viewer-"+s.ID {
				t.Errorf("List(%q, %q) holds %+v", tc.tenant, tc.channel, s)
			}
			if s.Revoked.IsZero() == (s.ID == "aa") {
				t.Errorf("session %s revoked = %v", s.ID, s.Revoked)
			}
		}
		if strings.Join(gotIDs, ",") != strings.Join(tc.want, ",") {
			t.Errorf("List(%q, %q) = %v, want %v (oldest first)", tc.tenant, tc.channel, gotIDs, tc.want)
		}
	}
}

func TestDeleteChannel(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	f.create(t, "acme", "news", "a")
	f.create(t, "acme", "news", "b")
	f.create(t, "acme", "sport", "c")
	if err := f.s.Revoke(ctx, "acme", "news", "b"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteChannel(ctx, "acme", "news"); err != nil {
		t.Fatal(err)
	}
	if got, err := f.s.List(ctx, "acme", "news"); err != nil || len(got) != 0 {
		t.Fatalf("List after DeleteChannel = %v, %v; want none", got, err)
	}
	for _, id := range []string{"a", "b"} {
		if _, err := f.s.Get(ctx, "acme", "news", id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get(%s) after DeleteChannel = %v, want ErrNotFound", id, err)
		}
	}
	if _, err := f.s.Get(ctx, "acme", "sport", "c"); err != nil {
		t.Fatalf("other channel's session: %v", err)
	}
	// A session id can be used again on the recreated channel.
	f.create(t, "acme", "news", "a")
	if err := f.s.DeleteChannel(ctx, "acme", "empty"); err != nil {
		t.Fatalf("DeleteChannel(no sessions) = %v", err)
	}
}

func TestStoreErrorsCounted(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	f.create(t, "", "news", "x")
	// Corrupt the record: Get fails as store trouble, counted.
	kv, err := f.n.js.KeyValue(ctx, DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "_.news.x", []byte(`{"v":1,"id":"y","channel":"news","dek":"20260301"}`)); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.Get(ctx, "", "news", "x")
	if err == nil || !strings.Contains(err.Error(), "holds session _.news.y") {
		t.Fatalf("Get(misfiled record) = %v", err)
	}
	if got := testutil.ToFloat64(f.s.m.errors.WithLabelValues(opGet)); got != 1 {
		t.Fatalf("store errors{op=get} = %v, want 1", got)
	}
	if n, err := testutil.GatherAndCount(f.reg, "onair_sessions_created_total", "onair_sessions_revoked_total", "onair_session_store_errors_total"); err != nil || n != 9 {
		t.Fatalf("registered series = %d, %v; want 9", n, err)
	}
}

// TestBucketUpdated: a sessions bucket made with a bucket-wide TTL (which
// would cut revoked sessions short) is switched to per-message TTLs with
// expiry markers, and the change is logged; a matching bucket is bound
// without an update.
func TestBucketUpdated(t *testing.T) {
	n := startNATS(t)
	ctx := testCtx(t)
	if _, err := n.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: DefaultBucket, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s, err := New(n.js, newLocal(t, "k"), Config{}, slog.New(slog.NewTextHandler(&logs, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, Session{ID: "a", Channel: "news", TokenExpires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	kv, err := n.js.KeyValue(ctx, DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.TTL() != 0 || st.LimitMarkerTTL() != markerTTL {
		t.Fatalf("bucket ttl %v, marker ttl %v; want 0, %v", st.TTL(), st.LimitMarkerTTL(), markerTTL)
	}
	if c := strings.Count(logs.String(), "updating bucket settings"); c != 1 || !strings.Contains(logs.String(), "ttl=1h0m0s new_ttl=0s") {
		t.Fatalf("%d update lines, logs:\n%s", c, logs.String())
	}
	logs.Reset()
	again, _ := New(n.js, newLocal(t, "k"), Config{}, slog.New(slog.NewTextHandler(&logs, nil)), nil)
	if _, _, err := again.buckets(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "updating") {
		t.Fatalf("matching bucket updated again:\n%s", logs.String())
	}
}

func TestSessionJSON(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := Session{ID: "a", Channel: "news", Created: at, Refreshed: at, TokenExpires: at, PII: PII{IP: "192.0.2.1"}}
	for _, tc := range []struct {
		revoked time.Time
		want    string
	}{
		{time.Time{}, `{"id":"a","tenant":"","channel":"news","created":"2026-03-01T12:00:00Z","refreshed":"2026-03-01T12:00:00Z","token_expires":"2026-03-01T12:00:00Z","pii":{"ip":"192.0.2.1"}}`},
		{at, `{"id":"a","tenant":"","channel":"news","created":"2026-03-01T12:00:00Z","refreshed":"2026-03-01T12:00:00Z","token_expires":"2026-03-01T12:00:00Z","revoked":"2026-03-01T12:00:00Z","pii":{"ip":"192.0.2.1"}}`},
	} {
		s.Revoked = tc.revoked
		got, err := json.Marshal(s)
		if err != nil || string(got) != tc.want {
			t.Errorf("json = %s, %v\nwant   %s", got, err, tc.want)
		}
	}
}
