// Package natstest runs an embedded NATS server with JetStream for tests:
// in-process, not listening, its store in a temporary directory, shut
// down when the test ends. Only _test.go files import it.
package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Server is an embedded JetStream server.
type Server struct {
	// Dir is the JetStream store directory, for tests that look at the
	// bytes at rest.
	Dir string
	ns  *server.Server
}

// Start starts a server named name; it stops when t ends.
func Start(t testing.TB, name string) *Server {
	t.Helper()
	dir := t.TempDir()
	ns, err := server.NewServer(&server.Options{
		ServerName: name, DontListen: true, JetStream: true,
		StoreDir: dir, NoSigs: true, NoLog: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded nats did not start within 10s")
	}
	return &Server{Dir: dir, ns: ns}
}

// Connect opens a client connection (another "node") and returns its
// JetStream handle; the connection closes when t ends.
func (s *Server) Connect(t testing.TB) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(s.ns.ClientURL(), nats.InProcessServer(s.ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// JetStream starts a server and returns one connection's JetStream.
func JetStream(t testing.TB, name string) jetstream.JetStream {
	t.Helper()
	return Start(t, name).Connect(t)
}
