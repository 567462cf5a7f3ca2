package fetcher_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nixrealis/nixrealis/auroratest/fetcher"
)

// A task's URIs are fetched into its sandbox before its executor starts;
// with Cache set, a second sandbox gets the file from the agent's cache.
func Example() {
	dir, _ := os.MkdirTemp("", "fetcher-example-")
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "motd")
	os.WriteFile(src, []byte("hello\n"), 0o644)

	f := &fetcher.Fetcher{CacheDir: filepath.Join(dir, "cache")}
	for _, task := range []string{"task-0", "task-1"} {
		sandbox := filepath.Join(dir, task)
		res, err := f.Fetch(context.Background(), sandbox, "vagrant", []fetcher.URI{{Value: "file://" + src, Cache: true}})
		if err != nil {
			fmt.Println(err)
			return
		}
		b, _ := os.ReadFile(res[0].Path)
		fmt.Printf("%s: %s from cache: %t\n", task, b[:len(b)-1], res[0].FromCache)
	}
	// Output:
	// task-0: hello from cache: false
	// task-1: hello from cache: true
}
