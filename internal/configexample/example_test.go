package configexample_test

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nixrealis/nixrealis/internal/configexample"
	"github.com/nixrealis/nixrealis/job"
)

// The example client registers -config, -bind and -write-json, checks
// them once its flags are parsed, and loads the job named by its key
// flags from the file, with the bindings applied.
func Example() {
	dir, err := os.MkdirTemp("", "configexample")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "hello.aurora")
	src := `hello = Process(name = 'hello', cmdline = 'echo hello {{greetee}}')
task = Task(processes = [hello], resources = Resources(cpu = 0.1, ram = 16*MB, disk = 16*MB))
jobs = [Service(cluster = 'devcluster', role = 'www-data', environment = 'prod', name = 'hello', task = task)]
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		fmt.Println(err)
		return
	}

	var f configexample.Flags
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	f.Register(fs)
	if err := fs.Parse([]string{"-config", path, "-bind", "greetee=world"}); err != nil {
		fmt.Println(err)
		return
	}
	if err := f.Check(fs, "create"); err != nil {
		fmt.Println(err)
		return
	}
	// No key flag was given on the command line, so the file's only job
	// matches whatever the key holds.
	file, err := f.Load(job.Key{}, io.Discard)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(file.Key())
	fmt.Println(file.Spec.Payload.Task.Processes[0].Cmdline)
	// Output:
	// devcluster/www-data/prod/hello
	// echo hello world
}
