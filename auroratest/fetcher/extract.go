package fetcher

import (
	"archive/tar"
	"archive/zip"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// extract unpacks the archive at file into dir, as the Mesos fetcher does
// for a URI with extract set, and returns the top-level names it created.
// A file that is not an archive is left as it is, as in Mesos.
func extract(file, dir string) ([]string, error) {
	name := strings.ToLower(filepath.Base(file))
	var (
		top = map[string]bool{}
		err error
	)
	switch {
	case strings.HasSuffix(name, ".tar.gz"), strings.HasSuffix(name, ".tgz"):
		err = untar(file, dir, top, func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) })
	case strings.HasSuffix(name, ".tar.bz2"), strings.HasSuffix(name, ".tbz2"):
		err = untar(file, dir, top, func(r io.Reader) (io.Reader, error) { return bzip2.NewReader(r), nil })
	case strings.HasSuffix(name, ".tar"):
		err = untar(file, dir, top, func(r io.Reader) (io.Reader, error) { return r, nil })
	case strings.HasSuffix(name, ".tar.xz"), strings.HasSuffix(name, ".txz"):
		return nil, errors.New("xz archives are not supported by auroratest's fetcher: use .tar.gz, .tar.bz2 or .zip")
	case strings.HasSuffix(name, ".zip"):
		err = unzip(file, dir, top)
	case strings.HasSuffix(name, ".gz"):
		err = gunzip(file, filepath.Join(dir, strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))), top)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(top))
	for n := range top {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// target returns where the archive entry name goes under dir, refusing
// names that would leave it.
func target(dir, name string) (string, error) {
	clean := filepath.Clean("/" + name)
	if name == "" || filepath.IsAbs(name) || strings.Contains("/"+filepath.ToSlash(name)+"/", "/../") {
		return "", fmt.Errorf("archive entry %q points outside the sandbox", name)
	}
	return filepath.Join(dir, clean), nil
}

func topName(name string) string {
	name = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(name)), "./")
	first, _, _ := strings.Cut(name, "/")
	return first
}

func untar(file, dir string, top map[string]bool, decompress func(io.Reader) (io.Reader, error)) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := decompress(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if filepath.Clean(h.Name) == "." {
			continue
		}
		dst, err := target(dir, h.Name)
		if err != nil {
			return err
		}
		mode := fs.FileMode(h.Mode).Perm()
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(dst, mode|0o700)
		case tar.TypeReg:
			err = writeFile(dst, tr, mode)
		case tar.TypeSymlink:
			err = symlink(dir, dst, h.Linkname)
		default:
			err = fmt.Errorf("archive entry %q: type %q is not supported (only files, directories and symbolic links)", h.Name, h.Typeflag)
		}
		if err != nil {
			return err
		}
		top[topName(h.Name)] = true
	}
}

func unzip(file, dir string, top map[string]bool) error {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return err
	}
	defer zr.Close()
	for _, zf := range zr.File {
		dst, err := target(dir, zf.Name)
		if err != nil {
			return err
		}
		mode := zf.Mode()
		switch {
		case mode.IsDir():
			err = os.MkdirAll(dst, mode.Perm()|0o700)
		case mode&fs.ModeSymlink != 0:
			err = errors.New("symbolic links in zip archives are not supported")
		default:
			var rc io.ReadCloser
			if rc, err = zf.Open(); err == nil {
				err = writeFile(dst, rc, mode.Perm())
				rc.Close()
			}
		}
		if err != nil {
			return fmt.Errorf("archive entry %q: %w", zf.Name, err)
		}
		top[topName(zf.Name)] = true
	}
	return nil
}

func gunzip(file, dst string, top map[string]bool) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	if err := writeFile(dst, zr, 0o644); err != nil {
		return err
	}
	top[filepath.Base(dst)] = true
	return nil
}

// writeFile writes r to dst with mode perm (at least owner read-write),
// creating parent directories and replacing what was there.
func writeFile(dst string, r io.Reader, perm fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if perm&0o111 != 0 {
		// A task may run it: see writeUnforked.
		return writeUnforked(dst, r, perm|0o600)
	}
	return createFile(dst, r, perm|0o600)
}

// symlink creates a link at dst to a relative target that stays inside
// dir.
func symlink(dir, dst, linkname string) error {
	if filepath.IsAbs(linkname) {
		return fmt.Errorf("symbolic link to %q: only relative links inside the sandbox are extracted", linkname)
	}
	resolved := filepath.Join(filepath.Dir(dst), linkname)
	if rel, err := filepath.Rel(dir, resolved); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return fmt.Errorf("symbolic link to %q points outside the sandbox", linkname)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return os.Symlink(linkname, dst)
}
