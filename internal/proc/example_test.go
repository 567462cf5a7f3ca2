//go:build linux

package proc_test

import (
	"fmt"
	"log"
	"os"

	"github.com/nixrealis/nixrealis/internal/proc"
)

// ExampleStat reads this process's entry and checks that it is alive.
func ExampleStat() {
	p, err := proc.Stat(os.Getpid())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.PID == os.Getpid(), p.PPID == os.Getppid(), proc.Alive(p.PID))
	// Output: true true true
}
