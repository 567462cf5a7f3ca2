package testenv_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/nixrealis/nixrealis/internal/testenv"
)

// A stand-in program that a test writes and then runs at once, safe
// against "text file busy" while other tests start processes.
func ExampleWriteExecutable() {
	dir, err := os.MkdirTemp("", "testenv-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	fake := filepath.Join(dir, "nix")
	if err := testenv.WriteExecutable(fake, []byte("#!/bin/sh\necho \"nix (stand-in) $*\"\n")); err != nil {
		fmt.Println(err)
		return
	}
	out, err := exec.Command(fake, "--version").Output()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output: nix (stand-in) --version
}
