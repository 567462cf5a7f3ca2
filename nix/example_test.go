package nix_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/nixrealis/nixrealis/nix"
)

// The output path of a package is known from evaluation alone: nothing is
// built, so a payload naming it can be rendered in well under a second.
func ExampleNix_OutputPaths() {
	ctx := context.Background()
	var n nix.Nix // nix from $PATH, default store
	drvs, err := n.Instantiate(ctx, nix.Expr{File: "testdata/pkgs.nix", Attr: "greeter"})
	if err != nil {
		log.Fatal(err)
	}
	outs, err := n.OutputPaths(ctx, drvs...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(outs[0].Name())
}

func ExampleNix_Build() {
	ctx := context.Background()
	n := nix.Nix{
		Stderr: os.Stderr, // Nix's messages and build logs, without ANSI escapes
		Progress: func(ev nix.Event) {
			if ev.Action == nix.ActionStart && ev.Activity == nix.ActBuild {
				fmt.Println("building", ev.Path)
			}
		},
	}
	drvs, err := n.Instantiate(ctx, nix.Expr{File: "testdata/pkgs.nix", Attr: "greeter"})
	if err != nil {
		log.Fatal(err)
	}
	outs, err := n.Build(ctx, nix.BuildOptions{AddRoot: "/tmp/greeter-result"}, drvs...)
	if errors.Is(err, nix.ErrBuildFailed) {
		var ne *nix.Error
		errors.As(err, &ne)
		log.Fatalf("%v\n%s", err, ne.Stderr) // the build log's head and tail
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(outs[0])
}

func ExampleNix_Eval() {
	var n nix.Nix
	var v struct {
		Hello string `json:"hello"`
	}
	err := n.Eval(context.Background(), nix.Expr{Expr: `{ hello = (import ./testdata/pkgs.nix {}).hello; }`}, &v)
	var ne *nix.Error
	if errors.As(err, &ne) && ne.File != "" {
		log.Fatalf("%s:%d:%d: %s", ne.File, ne.Line, ne.Column, ne.Msg)
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.Hello) // a derivation evaluates to its output path
}

// Publish a closure to a file:// binary cache, signing it while uploading,
// and check the signatures in Go before any agent asks for it.
func ExampleNix_Copy() {
	ctx := context.Background()
	var n nix.Nix
	if err := n.GenerateKey(ctx, "cache-1", "/tmp/cache-1.sec", "/tmp/cache-1.pub"); err != nil {
		log.Fatal(err)
	}
	pub, err := os.ReadFile("/tmp/cache-1.pub")
	if err != nil {
		log.Fatal(err)
	}
	path, err := nix.ParseStorePath("/nix/store/zqn0w06sgshbxglvawyrmf5iqsy2fl2q-hello")
	if err != nil {
		log.Fatal(err)
	}
	err = n.Copy(ctx, nix.CopyOptions{
		To:            "file:///srv/nix-cache",
		SecretKeyFile: "/tmp/cache-1.sec",
		Compression:   "zstd",
	}, path)
	if err != nil {
		log.Fatal(err)
	}
	if err := nix.VerifyCache(ctx, "file:///srv/nix-cache", string(pub), path); err != nil {
		log.Fatal(err)
	}
}

// An agent realises a closure from the cluster's cache into its own store,
// checking signatures, and roots it in the task's sandbox.
func ExampleNix_Realise() {
	ctx := context.Background()
	agent := nix.Nix{Store: "/var/lib/agent-store"} // a chroot store stands in for another machine
	paths, err := agent.Realise(ctx, nix.RealiseOptions{
		AddRoot:           "/var/lib/sandbox/.gcroots/sandbox",
		Substituters:      []string{"file:///srv/nix-cache"},
		TrustedPublicKeys: []string{"cache-1:owhzNC7uktpmQsjnAd+IOmeptbDLsfr+rJE3CbSBfWU="},
	}, "/nix/store/zqn0w06sgshbxglvawyrmf5iqsy2fl2q-hello")
	switch {
	case errors.Is(err, nix.ErrBadSignature):
		log.Fatal("not signed by a trusted key: ", err)
	case errors.Is(err, nix.ErrNotInCache):
		log.Fatal("not published: ", err)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println(paths)
}

func ExampleParseEvent() {
	ev, err := nix.ParseEvent([]byte(`@nix {"action":"result","fields":[8192,3000448,0,0],"id":75754633166855,"type":105}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.Action, ev.Result == nix.ResProgress, ev.Done, ev.Expected)
	ev, _ = nix.ParseEvent([]byte(`@nix {"action":"msg","level":0,"msg":"\u001b[31;1merror:\u001b[0m undefined variable '\u001b[35;1mb\u001b[0m'"}`))
	fmt.Println(ev.Text)
	// Output:
	// result true 8192 3000448
	// error: undefined variable 'b'
}
