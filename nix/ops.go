package nix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// An Expr names what nix-instantiate evaluates: a file or an expression,
// optionally an attribute path inside it, with arguments for a function.
// Exactly one of File and Expr must be set.
type Expr struct {
	// File is a Nix file, or a directory holding default.nix.
	File string
	// Expr is a Nix expression (passed as --expr; relative paths in it are
	// resolved against the working directory).
	Expr string
	// Attr selects an attribute path (-A), e.g. "pkgs.hello". Empty means
	// the whole value.
	Attr string
	// ArgStr are passed as --argstr name value (strings only, so no value
	// is ever parsed as Nix), when the value is a function.
	ArgStr map[string]string
	// IncludePath entries are passed as -I (e.g. "nixpkgs=/src/nixpkgs").
	IncludePath []string
}

// ErrInvalidExpr is wrapped by the error for an Expr that sets neither or
// both of File and Expr.
var ErrInvalidExpr = errors.New("invalid Expr")

// args turns e into nix-instantiate arguments.
func (e Expr) args() ([]string, error) {
	switch {
	case e.File == "" && e.Expr == "":
		return nil, fmt.Errorf("nix: %w: set File (a .nix file) or Expr (a Nix expression)", ErrInvalidExpr)
	case e.File != "" && e.Expr != "":
		return nil, fmt.Errorf("nix: %w: File %q and Expr are both set; set only one", ErrInvalidExpr, e.File)
	}
	var args []string
	for _, p := range e.IncludePath {
		args = append(args, "-I", p)
	}
	for _, k := range slices.Sorted(mapKeys(e.ArgStr)) {
		args = append(args, "--argstr", k, e.ArgStr[k])
	}
	if e.Attr != "" {
		args = append(args, "-A", e.Attr)
	}
	if e.Expr != "" {
		return append(args, "--expr", e.Expr), nil
	}
	file := e.File
	if strings.HasPrefix(file, "-") {
		file = "./" + file
	}
	return append(args, file), nil
}

// Instantiate evaluates e and writes the store derivations it yields,
// without building anything (nix-instantiate). It returns the .drv paths,
// one per derivation in the value (a list or attribute set of derivations
// gives several). They are not GC roots once Instantiate returns: it roots
// them in a temporary directory while nix-instantiate runs (so Nix does
// not warn that the result might be garbage-collected) and removes it.
func (n *Nix) Instantiate(ctx context.Context, e Expr) ([]StorePath, error) {
	args, err := e.args()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "nixrealis-instantiate-")
	if err != nil {
		return nil, fmt.Errorf("nix instantiate: directory for GC roots: %w", err)
	}
	defer os.RemoveAll(dir)
	args = append([]string{"--add-root", filepath.Join(dir, "drv")}, args...)
	out, err := n.run(ctx, "instantiate", "nix-instantiate", nil, args)
	if err != nil {
		return nil, err
	}
	return readRoots("instantiate", out)
}

// OutputPaths returns the output paths of the given derivations without
// building them, in the order of drvs (each derivation's outputs sorted by
// path, as nix-store --query --outputs prints them). The paths need not
// exist: for input-addressed derivations they are fixed by evaluation.
//
// When the store is local (the default store, or a chroot directory) the
// paths are read from the .drv files, which costs no process; otherwise,
// or for anything the reader does not expect (content-addressed outputs),
// nix-store --query --outputs answers.
func (n *Nix) OutputPaths(ctx context.Context, drvs ...StorePath) ([]StorePath, error) {
	if len(drvs) == 0 {
		return nil, nil
	}
	for _, d := range drvs {
		if !d.IsDerivation() {
			return nil, fmt.Errorf("nix: output paths: %q is not a derivation (.drv); pass what Instantiate returns", d)
		}
	}
	// The outputs are written in the .drv file itself: read them there
	// when the store is local, and ask nix-store otherwise.
	if err := ctx.Err(); err != nil {
		return nil, &Error{Op: "output paths", ExitCode: -1, Err: err}
	}
	var fast []StorePath
	for _, d := range drvs {
		file := n.localDrvFile(d)
		if file == "" {
			fast = nil
			break
		}
		outs, ok := readDrvOutputs(file)
		if !ok {
			fast = nil
			break
		}
		fast = append(fast, outs...)
	}
	if fast != nil {
		return fast, nil
	}
	out, err := n.run(ctx, "output paths", "nix-store", nil, append([]string{"--query", "--outputs"}, strs(drvs)...))
	if err != nil {
		return nil, err
	}
	return parseStorePaths(out)
}

// Eval evaluates e strictly to JSON (nix-instantiate --eval --strict
// --json) and decodes it into v with encoding/json (v nil discards it).
// Derivations come out as their output path strings. Nothing is built and
// no file is added to the store.
func (n *Nix) Eval(ctx context.Context, e Expr, v any) error {
	args, err := e.args()
	if err != nil {
		return err
	}
	out, err := n.run(ctx, "eval", "nix-instantiate", nil, append([]string{"--eval", "--strict", "--json"}, args...))
	if err != nil {
		return err // stdout may hold a partial JSON prefix: never decode it
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("nix eval: decoding Nix's JSON into %T: %w", v, err)
	}
	return nil
}

// BuildOptions configure [Nix.Build].
type BuildOptions struct {
	// AddRoot, when set, makes the outputs GC roots: a symlink at this
	// path (several outputs get AddRoot, AddRoot-2, ...). Without it the
	// outputs may be collected as soon as Build returns.
	AddRoot string
	// KeepGoing builds as much as possible when one derivation fails.
	KeepGoing bool
	// MaxJobs, when > 0, is passed as --max-jobs.
	MaxJobs int
}

// Build builds the given derivations (nix-store --realise) and returns
// their output paths. Store paths that are not derivations are realised
// (substituted if needed) as they are. A failed builder gives an error
// wrapping [ErrBuildFailed] whose Msg is Nix's message and whose Stderr
// ends with the build log.
func (n *Nix) Build(ctx context.Context, opts BuildOptions, paths ...StorePath) ([]StorePath, error) {
	var args []string
	if opts.KeepGoing {
		args = append(args, "--keep-going")
	}
	if opts.MaxJobs > 0 {
		args = append(args, "--max-jobs", fmt.Sprint(opts.MaxJobs))
	}
	return n.realise(ctx, "build", opts.AddRoot, false, args, paths)
}

// RealiseOptions configure [Nix.Realise].
type RealiseOptions struct {
	// AddRoot, when set, makes the realised paths GC roots (see
	// BuildOptions.AddRoot). Realising with a root is one atomic step:
	// Nix holds temporary roots until the permanent one exists.
	AddRoot string
	// Indirect passes --indirect (a no-op in Nix 2.8, where every root
	// outside the gcroots directory is indirect).
	Indirect bool
	// Substituters, when non-nil, replaces the substituters setting
	// (binary cache URLs, e.g. "file:///srv/cache"). An empty non-nil
	// slice disables substitution.
	Substituters []string
	// TrustedPublicKeys, when non-nil, replaces trusted-public-keys
	// ("name:base64" keys whose signatures are accepted).
	TrustedPublicKeys []string
}

// Realise makes the given paths valid in the store (nix-store --realise),
// substituting them from binary caches whose signatures are checked
// against the trusted keys, building derivations when needed, and returns
// the realised paths. A path signed by no trusted key gives an error
// wrapping [ErrBadSignature]; one no cache has, [ErrNotInCache]; an
// unreachable cache, [ErrCacheUnreachable].
//
// Through a nix daemon, an untrusted user's Substituters and
// TrustedPublicKeys are ignored by the daemon: those belong in the
// machine's nix.conf. A substituter URL that turns signature checks off is
// refused (see [CheckStoreURL]).
func (n *Nix) Realise(ctx context.Context, opts RealiseOptions, paths ...StorePath) ([]StorePath, error) {
	for _, s := range opts.Substituters {
		if err := CheckStoreURL(s); err != nil {
			return nil, fmt.Errorf("nix-store --realise: RealiseOptions.Substituters: %w", err)
		}
	}
	var args []string
	if opts.Substituters != nil {
		args = append(args, "--option", "substituters", strings.Join(opts.Substituters, " "))
	}
	if opts.TrustedPublicKeys != nil {
		args = append(args, "--option", "trusted-public-keys", strings.Join(opts.TrustedPublicKeys, " "))
	}
	return n.realise(ctx, "realise", opts.AddRoot, opts.Indirect, args, paths)
}

func (n *Nix) realise(ctx context.Context, op, addRoot string, indirect bool, args []string, paths []StorePath) ([]StorePath, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	if addRoot != "" {
		args = append(args, "--add-root", addRoot)
		if indirect {
			args = append(args, "--indirect")
		}
	}
	args = append(append(args, "--realise"), strs(paths)...)
	out, err := n.run(ctx, op, "nix-store", nil, args)
	if err != nil {
		return nil, err
	}
	if addRoot == "" {
		return parseStorePaths(out)
	}
	return readRoots(op, out)
}

// readRoots reads the output of a command given --add-root: one line per
// result, the GC root (a symlink to the store path), or the store path
// itself where Nix made no root (nix-instantiate with a store that is not
// local).
func readRoots(op string, out []byte) ([]StorePath, error) {
	var res []StorePath
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		if p, err := ParseStorePath(line); err == nil {
			res = append(res, p)
			continue
		}
		target, err := os.Readlink(line)
		if err != nil {
			return nil, fmt.Errorf("nix %s: reading GC root: %w", op, err)
		}
		p, err := ParseStorePath(target)
		if err != nil {
			return nil, fmt.Errorf("nix %s: GC root %s: %w", op, line, err)
		}
		res = append(res, p)
	}
	return res, nil
}

// A PathInfo describes one valid store path (nix path-info --json).
type PathInfo struct {
	Path             StorePath   `json:"path"`
	NarHash          string      `json:"narHash"` // "sha256-<base64>" in Nix 2.8's JSON
	NarSize          int64       `json:"narSize"`
	References       []StorePath `json:"references"`
	Deriver          string      `json:"deriver,omitempty"`
	RegistrationTime int64       `json:"registrationTime,omitempty"`
	Ultimate         bool        `json:"ultimate,omitempty"` // built locally
	Signatures       []string    `json:"signatures,omitempty"`
	CA               string      `json:"ca,omitempty"` // content address, if any
}

// Closure returns the closure of the given paths (the paths and everything
// they reference, transitively) with NAR sizes, references and signatures,
// sorted by path. The paths must be valid in the store.
func (n *Nix) Closure(ctx context.Context, paths ...StorePath) ([]PathInfo, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	args := append([]string{"--json", "--recursive"}, strs(paths)...)
	out, err := n.run(ctx, "closure", "nix", []string{"path-info", "--extra-experimental-features", "nix-command"}, args)
	if err != nil {
		return nil, err
	}
	return parsePathInfos(out)
}

// parsePathInfos reads nix path-info --json: an array up to Nix 2.18, an
// object keyed by path from 2.19 on.
func parsePathInfos(out []byte) ([]PathInfo, error) {
	var infos []PathInfo
	if err := json.Unmarshal(out, &infos); err != nil {
		var byPath map[string]*PathInfo
		if err2 := json.Unmarshal(out, &byPath); err2 != nil {
			return nil, fmt.Errorf("nix closure: decoding path-info JSON: %w", err)
		}
		for p, info := range byPath {
			if info == nil {
				return nil, fmt.Errorf("nix closure: %s is not valid", p)
			}
			info.Path = StorePath(p)
			infos = append(infos, *info)
		}
	}
	for i := range infos {
		if _, err := ParseStorePath(string(infos[i].Path)); err != nil {
			return nil, fmt.Errorf("nix closure: %w", err)
		}
		if len(infos[i].References) == 0 {
			infos[i].References = nil // as in NarInfo
		}
		slices.Sort(infos[i].References)
	}
	slices.SortFunc(infos, func(a, b PathInfo) int { return strings.Compare(string(a.Path), string(b.Path)) })
	return infos, nil
}

// CopyOptions configure [Nix.Copy]. At least one of To and From is set;
// the other side is the Nix's Store.
type CopyOptions struct {
	// To is the destination store URL (file:///dir, http(s)://, s3://,
	// ssh://, a chroot directory, ...).
	To string
	// From is the source store URL.
	From string
	// SecretKeyFile, when set with To, signs every path while uploading
	// (the secret-key store parameter; works for file:// and s3://
	// caches and needs no trusted user).
	SecretKeyFile string
	// Compression, when set with To, is the binary cache's NAR
	// compression (xz by default; "zstd" is much faster).
	Compression string
	// TrustedPublicKeys, when non-nil, replaces trusted-public-keys for
	// the destination's signature check (copying into a store).
	TrustedPublicKeys []string
}

// Copy copies the closures of the given paths between stores (nix copy).
// Paths already in the destination are skipped (and gain no signature).
// A store URL that turns signature checks off is refused (see
// [CheckStoreURL]).
func (n *Nix) Copy(ctx context.Context, opts CopyOptions, paths ...StorePath) error {
	if opts.To == "" && opts.From == "" {
		return errors.New("nix copy: set CopyOptions.To (destination store URL) or CopyOptions.From (source store URL)")
	}
	if err := CheckStoreURL(opts.To); err != nil {
		return fmt.Errorf("nix copy: CopyOptions.To: %w", err)
	}
	if err := CheckStoreURL(opts.From); err != nil {
		return fmt.Errorf("nix copy: CopyOptions.From: %w", err)
	}
	if (opts.SecretKeyFile != "" || opts.Compression != "") && opts.To == "" {
		return errors.New("nix copy: CopyOptions.SecretKeyFile and Compression apply to a destination: set To")
	}
	if len(paths) == 0 {
		return nil
	}
	var args []string
	if opts.From != "" {
		args = append(args, "--from", opts.From)
	}
	if opts.To != "" {
		to := opts.To
		params := url.Values{}
		if opts.SecretKeyFile != "" {
			params.Set("secret-key", opts.SecretKeyFile)
		}
		if opts.Compression != "" {
			params.Set("compression", opts.Compression)
		}
		if len(params) > 0 {
			sep := "?"
			if strings.Contains(to, "?") {
				sep = "&"
			}
			to += sep + encodeParams(params)
		}
		args = append(args, "--to", to)
	}
	if opts.TrustedPublicKeys != nil {
		args = append(args, "--option", "trusted-public-keys", strings.Join(opts.TrustedPublicKeys, " "))
	}
	_, err := n.run(ctx, "copy", "nix", []string{"copy", "--extra-experimental-features", "nix-command"}, append(args, strs(paths)...))
	return err
}

// encodeParams writes store URL parameters the way Nix decodes them
// (percent-decoding, no '+' for space), in name order.
func encodeParams(v url.Values) string {
	var parts []string
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range v {
			if !yield(k) {
				return
			}
		}
	}) {
		parts = append(parts, url.PathEscape(k)+"="+escapeParam(v.Get(k)))
	}
	return strings.Join(parts, "&")
}

func escapeParam(s string) string {
	// PathEscape keeps '/', which Nix accepts, and escapes '&', '?', '#',
	// '%' and spaces (as %20).
	e := url.PathEscape(s)
	return strings.NewReplacer("&", "%26", "=", "%3D", "+", "%2B").Replace(e)
}

// Sign adds signatures made with the secret key in keyFile to exactly the
// given paths in the store (nix store sign); sign a whole closure by
// passing the paths [Nix.Closure] returns. Signing while uploading
// (CopyOptions.SecretKeyFile) needs no write access to the store.
func (n *Nix) Sign(ctx context.Context, keyFile string, paths ...StorePath) error {
	if keyFile == "" {
		return errors.New("nix sign: keyFile is empty; pass the secret key file written by GenerateKey")
	}
	if len(paths) == 0 {
		return nil
	}
	_, err := n.run(ctx, "sign", "nix", []string{"store", "sign", "--extra-experimental-features", "nix-command"},
		append([]string{"--key-file", keyFile}, strs(paths)...))
	return err
}

// GenerateKey writes a new ed25519 binary cache key pair named name
// (nix-store --generate-binary-cache-key): the secret key to secretFile,
// the public key ("name:base64") to publicFile. Name it after the cache
// and a generation, e.g. "cache.example.org-1".
func (n *Nix) GenerateKey(ctx context.Context, name, secretFile, publicFile string) error {
	switch {
	case name == "" || strings.ContainsAny(name, ": \t\n"):
		return fmt.Errorf("nix generate key: name %q must be non-empty without ':' or spaces, e.g. \"cache-1\"", name)
	case secretFile == "" || publicFile == "":
		return errors.New("nix generate key: set both secretFile and publicFile")
	}
	_, err := n.run(ctx, "generate key", "nix-store", nil, []string{"--generate-binary-cache-key", name, secretFile, publicFile})
	return err
}

func strs(paths []StorePath) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = string(p)
	}
	return out
}
