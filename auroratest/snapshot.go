package auroratest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Snapshot on the bbolt storage. Aurora's snapshot writes the whole
// state as one compacted snapshot so that its log can be truncated. A
// bbolt file never shrinks: the pages of deleted records (pruned tasks,
// configs nothing refers to any more) stay in it as free pages. So
// snapshot writes the in-memory state afresh into a new database next to
// the scheduler's, DataDir/scheduler.db.snapshot-tmp, syncs it, renames
// it over scheduler.db, syncs the directory and goes on with the new
// file, which holds the state and nothing else. A crash before the rename
// leaves scheduler.db as it was and the temporary file, which Start
// removes; after it, the new file. All of it happens under the
// scheduler's lock, which every use of the database holds, so no call
// sees the database closed.

const snapshotTmp = dbFile + ".snapshot-tmp"

// removeSnapshotTmp removes what a snapshot interrupted by a crash left
// in dir.
func removeSnapshotTmp(dir string) error {
	if err := os.Remove(filepath.Join(dir, snapshotTmp)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// snapshot replaces the database in dir with a fresh one holding st and
// nothing else. Until the rename, an error leaves the database and sto
// as they were; if the database cannot be opened again, sto's stays
// closed and every later commit fails (and is logged).
func (sto *store) snapshot(st *state, dir string) error {
	path := filepath.Join(dir, dbFile)
	tmp := filepath.Join(dir, snapshotTmp)
	if err := removeSnapshotTmp(dir); err != nil {
		return err
	}
	fresh, ch := full(st, nil)
	if err := writeSnapshot(tmp, st, fresh, ch); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	err := sto.db.Close()
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		db, oerr := openDB(dir)
		if oerr != nil {
			return errors.Join(err, oerr)
		}
		sto.db = db
		return err
	}
	syncErr := syncDir(dir)
	db, err := openDB(dir)
	if err != nil {
		return err
	}
	fresh.db = db
	fresh.finish(ch)
	*sto = *fresh
	if syncErr != nil {
		return fmt.Errorf("snapshot in place, but syncing %s failed: %w", dir, syncErr)
	}
	return nil
}

// writeSnapshot writes st's records ch, from full, to a new database at
// path and syncs it.
func writeSnapshot(path string, st *state, fresh *store, ch *changes) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error { return fresh.writeAll(tx, st, ch) })
	if err == nil {
		err = db.Sync()
	}
	return errors.Join(err, db.Close())
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
