package session

import (
	"fmt"
	"testing"
	"time"
)

// benchRevocations is a set of n revoked sessions on 10 channels.
func benchRevocations(tb testing.TB, n int) *Revocations {
	tb.Helper()
	r, err := NewRevocations(RevocationsConfig{}, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	cur := make(map[revKey]time.Time, n)
	for i := range n {
		cur[revKey{"acme", fmt.Sprintf("ch-%d", i%10), fmt.Sprintf("session-%d", i)}] = time.Now().Add(time.Hour)
	}
	r.publish(cur)
	return r
}

func TestRevokedAllocs(t *testing.T) {
	r := benchRevocations(t, 1000)
	tenant, channel, hit, miss := "acme", "ch-7", "session-7", "q8cH3kq2Tg6t1v2Qv0xWzA"
	if !r.Revoked(tenant, channel, hit) || r.Revoked(tenant, channel, miss) {
		t.Fatal("wrong answers")
	}
	if a := testing.AllocsPerRun(1000, func() { r.Revoked(tenant, channel, hit); r.Revoked(tenant, channel, miss) }); a != 0 {
		t.Fatalf("Revoked allocates %v times per call pair", a)
	}
	empty, _ := NewRevocations(RevocationsConfig{}, nil, nil)
	if empty.Revoked(tenant, channel, hit) {
		t.Fatal("empty set says revoked")
	}
}

func BenchmarkRevoked(b *testing.B) {
	r := benchRevocations(b, 10000)
	for _, bc := range []struct{ name, id string }{{"hit", "session-4327"}, {"miss", "q8cH3kq2Tg6t1v2Qv0xWzA"}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r.Revoked("acme", "ch-7", bc.id)
				}
			})
		})
	}
}
