package zktest_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nixrealis/nixrealis/internal/zktest"
)

// One server for a whole test binary: start it in TestMain and hand its
// address to the tests (here through a package variable set once).
func ExampleStart() {
	srv, err := zktest.Start("")
	if err != nil {
		log.Fatal(err) // errors.Is(err, zktest.ErrNotInstalled): skip instead
	}
	defer srv.Close()
	fmt.Println(srv.Addr) // 127.0.0.1:port; srv.Servers() for zk.Connect
}

// Expire a client's session: point the client at a proxy, cut it for
// longer than the session timeout, then restore it.
func ExampleNewProxy() {
	srv, err := zktest.Start(os.TempDir(), zktest.WithTickTime(100*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	p, err := zktest.NewProxy(srv.Addr)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	// ... connect a client to p.Addr with a 400ms session timeout ...
	p.Cut()
	time.Sleep(time.Second) // the server expires the session
	p.Restore()
	// ... the client reconnects and is told its session expired ...
}
