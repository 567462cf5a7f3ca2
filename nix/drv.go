package nix

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// maxDrvRead bounds how much of a .drv file is read for its outputs.
const maxDrvRead = 1 << 20

// localDrvFile returns where drv's file is on this machine when the store
// is a local one whose files can be read directly, or "" when only the CLI
// can answer (a remote store URL, or settings that move the store).
func (n *Nix) localDrvFile(drv StorePath) string {
	if _, ok := n.Options["store"]; ok {
		return ""
	}
	for _, kv := range n.Env {
		if strings.HasPrefix(kv, "NIX_REMOTE=") || strings.HasPrefix(kv, "NIX_STORE_DIR=") {
			return ""
		}
	}
	if os.Getenv("NIX_STORE_DIR") != "" {
		return ""
	}
	switch r := os.Getenv("NIX_REMOTE"); r {
	case "", "daemon", "local", "auto":
	default:
		return ""
	}
	switch {
	case n.Store == "" || n.Store == "daemon" || n.Store == "local" || n.Store == "auto":
		return string(drv)
	case filepath.IsAbs(n.Store) && !strings.ContainsAny(n.Store, "?"):
		return filepath.Join(n.Store, string(drv)) // a chroot store
	}
	return ""
}

// readDrvOutputs reads the output paths from the ATerm text of a .drv
// file ("Derive([("out","/nix/store/...","",""),...],..."), sorted by path
// as nix-store --query --outputs prints them. ok is false for anything
// unexpected (including content-addressed outputs without a path), and the
// caller then asks the CLI.
func readDrvOutputs(file string) (paths []StorePath, ok bool) {
	f, err := os.Open(file)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDrvRead))
	if err != nil {
		return nil, false
	}
	return parseDrvOutputs(data)
}

// parseDrvOutputs parses the outputs list at the start of a .drv file.
func parseDrvOutputs(data []byte) (paths []StorePath, ok bool) {
	rest, found := bytes.CutPrefix(data, []byte("Derive(["))
	if !found {
		return nil, false
	}
	// str reads one quoted string without escapes.
	str := func() (string, bool) {
		if len(rest) == 0 || rest[0] != '"' {
			return "", false
		}
		end := bytes.IndexByte(rest[1:], '"')
		if end < 0 {
			return "", false
		}
		s := rest[1 : 1+end]
		if bytes.IndexByte(s, '\\') >= 0 {
			return "", false
		}
		rest = rest[2+end:]
		return string(s), true
	}
	lit := func(s string) bool {
		var ok bool
		rest, ok = bytes.CutPrefix(rest, []byte(s))
		return ok
	}
	for {
		if !lit("(") {
			return nil, false
		}
		if _, ok := str(); !ok || !lit(",") { // output name
			return nil, false
		}
		path, ok := str()
		if !ok || !lit(",") {
			return nil, false
		}
		if _, ok := str(); !ok || !lit(",") { // hash algorithm
			return nil, false
		}
		if _, ok := str(); !ok || !lit(")") { // hash
			return nil, false
		}
		p, err := ParseStorePath(path)
		if err != nil {
			return nil, false
		}
		paths = append(paths, p)
		if lit("]") {
			break
		}
		if !lit(",") {
			return nil, false
		}
	}
	slices.Sort(paths)
	return paths, true
}
