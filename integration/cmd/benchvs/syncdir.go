package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
)

// replaceChanged makes dst hold exactly the files of src, moving in only
// the files whose bytes differ and removing those src lacks, so an
// unchanged file keeps its mtime. A repository a bump rewrote whole would
// have BuildKit send every package again (its file sync compares
// metadata); melange writes only the new package and the index, and the
// bump is meant to measure that. It returns how many files it moved in.
func replaceChanged(src, dst string) (int, error) {
	moved := 0
	keep := map[string]bool{}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		keep[rel] = true
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if same, err := sameBytes(p, target); err != nil || same {
			return err
		}
		moved++
		return os.Rename(p, target)
	})
	if err != nil {
		return moved, err
	}
	var stale []string
	err = filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dst, p)
		if err != nil {
			return err
		}
		if !keep[rel] {
			stale = append(stale, p)
			if d.IsDir() {
				return filepath.SkipDir
			}
		}
		return nil
	})
	if err != nil {
		return moved, err
	}
	for _, p := range stale {
		if err := os.RemoveAll(p); err != nil {
			return moved, err
		}
	}
	return moved, nil
}

// sameBytes says whether b exists with a's bytes.
func sameBytes(a, b string) (bool, error) {
	db, err := os.ReadFile(b)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	da, err := os.ReadFile(a)
	if err != nil {
		return false, err
	}
	return bytes.Equal(da, db), nil
}
