package tabletstore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/strata-db/strata/failpoint"
	"github.com/strata-db/strata/storage"
)

// Clone.
//
// A lagging replica (see "Replica versions") is repaired from a healthy
// one on another backend. The source describes what the destination lacks
// in a Manifest and serves the files it names; the destination downloads
// them and installs them in one bbolt transaction. Moving the manifest and
// the bytes is the caller's business: a Manifest is JSON-encodable, and a
// file is a stream.
//
//	source:      m, release, err := src.CloneManifest(tablet, have, want)
//	             ... src.OpenCloneFile(tablet, f.Name) for each f of m.Files ...
//	             release() // once the destination is done
//	destination: err := dst.InstallClone(tablet, m, fetch)
//
// A clone is incremental when the source still holds the versions above
// the destination's (have) as rowsets of their own: no compaction merged
// them with versions at or below have. The destination then appends those
// rowsets. Otherwise it is full: every rowset up to the version wanted,
// replacing whatever the destination held.
//
// Delete bitmaps are not copied. The destination computes them as its own
// publishes would have: it publishes the new rowsets again in version
// order against the ones before them (merge-on-write lookups, DELETE
// conditions), each at its first version. The new files take rowset ids
// of the destination's own; they are written and made durable before the
// one bbolt transaction that records them, so that a crash leaves either
// the old state or the new one, and the files the surviving state does not
// reference are deleted at the next start.

// Manifest is what a clone moves: the source's records of the rowsets and
// the files they are made of.
type Manifest struct {
	TabletID int64 `json:"tablet_id"`
	// Full: the rowsets are every one up to WantVersion, and replace what
	// the destination holds. Otherwise they hold the versions in
	// (HaveVersion, WantVersion], and follow a destination at HaveVersion.
	Full        bool  `json:"full"`
	HaveVersion int64 `json:"have_version"` // 0 when Full
	WantVersion int64 `json:"want_version"`
	// Rowsets are the source's records (ids and file names are the
	// source's), in version order.
	Rowsets []RowsetMeta `json:"rowsets"`
	// Files are every segment and primary-key index file of Rowsets.
	Files []CloneFile `json:"files"`
}

// CloneFile is a file of a Manifest.
type CloneFile struct {
	Name string `json:"name"` // within the tablet's directory
	Size int64  `json:"size"`
}

// CloneManifest describes what a replica of a tablet at haveVersion needs
// to reach wantVersion (see "Clone"), and pins those rowsets so that their
// files stay until release is called (release is idempotent). A tablet
// whose version here is below wantVersion, or that is not held here, is
// refused with a *VersionMissingError; a version a compaction merged into
// a rowset reaching above it, with ErrVersionsCompacted (ask for a later
// one). A strict store (Options.Strict) holds version 1 of every tablet:
// of a tablet it holds nothing of, version 1 is an empty full manifest.
func (s *Store) CloneManifest(tabletID, haveVersion, wantVersion int64) (Manifest, func(), error) {
	m := Manifest{TabletID: tabletID, WantVersion: wantVersion}
	if wantVersion < 1 {
		return m, nil, fmt.Errorf("tabletstore: cloning tablet %d: version %d", tabletID, wantVersion)
	}
	s.mu.Lock()
	t := s.tablets[tabletID]
	held := s.heldLocked(t)
	if t == nil && held == 0 || held > 0 && held < wantVersion {
		s.mu.Unlock()
		return m, nil, &VersionMissingError{TabletID: tabletID, Version: wantVersion, Held: held}
	}
	if t == nil {
		// Strict, at version 1: nothing to copy.
		s.mu.Unlock()
		m.Full = true
		return m, func() {}, nil
	}
	rowsets, missing := collectAt(nil, t.visible, wantVersion)
	if missing != nil {
		s.mu.Unlock()
		o := &missing.meta
		return m, nil, fmt.Errorf("tabletstore: cloning tablet %d at version %d: rowset %d merged versions [%d-%d]: %w",
			tabletID, wantVersion, o.ID, o.StartVersion, o.EndVersion, ErrVersionsCompacted)
	}
	incremental := haveVersion >= 1
	for _, rs := range rowsets {
		if rs.meta.StartVersion <= haveVersion && haveVersion < rs.meta.EndVersion {
			incremental = false // merged across have
		}
	}
	if incremental {
		m.HaveVersion = haveVersion
		rowsets = slices.DeleteFunc(rowsets, func(rs *rowset) bool { return rs.meta.StartVersion <= haveVersion })
	} else {
		m.Full = true
	}
	pin(rowsets)
	for _, rs := range rowsets {
		meta := rs.meta
		meta.Segments = slices.Clone(meta.Segments)
		m.Rowsets = append(m.Rowsets, meta)
	}
	s.mu.Unlock()
	release := sync.OnceFunc(func() { unpin(rowsets) })
	for i, rm := range m.Rowsets {
		dir := rowsets[i].dir
		for _, sg := range rm.Segments {
			m.Files = append(m.Files, CloneFile{Name: sg.File, Size: sg.Size})
			if sg.PKIndex == "" {
				continue
			}
			fi, err := os.Stat(filepath.Join(dir, sg.PKIndex))
			if err != nil {
				release()
				return Manifest{}, nil, fmt.Errorf("tabletstore: cloning tablet %d: %w", tabletID, err)
			}
			m.Files = append(m.Files, CloneFile{Name: sg.PKIndex, Size: fi.Size()})
		}
	}
	return m, release, nil
}

// OpenCloneFile opens a file of a tablet's rowsets (a Manifest's) for
// reading. Names that are not segment or primary-key index files of a
// rowset of the tablet are refused with an error matching os.ErrNotExist.
func (s *Store) OpenCloneFile(tabletID int64, name string) (io.ReadCloser, error) {
	if !cloneFileName(name) {
		return nil, fmt.Errorf("tabletstore: tablet %d has no file %q: %w", tabletID, name, os.ErrNotExist)
	}
	s.mu.Lock()
	found := false
	if t := s.tablets[tabletID]; t != nil {
		var walk func(list []*rowset)
		walk = func(list []*rowset) {
			for _, rs := range list {
				for _, sg := range rs.meta.Segments {
					found = found || sg.File == name || sg.PKIndex == name
				}
				walk(rs.inputs)
			}
		}
		walk(t.visible)
		for _, g := range t.stale {
			walk(g.inputs)
		}
	}
	s.mu.Unlock()
	if !found {
		return nil, fmt.Errorf("tabletstore: tablet %d has no file %q: %w", tabletID, name, os.ErrNotExist)
	}
	f, err := os.Open(filepath.Join(s.tabletDir(tabletID), name))
	if err != nil {
		return nil, fmt.Errorf("tabletstore: cloning tablet %d: %w", tabletID, err)
	}
	return f, nil
}

// cloneFileName reports whether name can be a file of a rowset: a plain
// name in the tablet's directory.
func cloneFileName(name string) bool {
	return name != "" && filepath.Base(name) == name && !strings.ContainsAny(name, `/\`) &&
		(strings.HasSuffix(name, ".seg") || strings.HasSuffix(name, ".pk"))
}

// check validates a manifest for a clone of tabletID.
func (m *Manifest) check(tabletID int64) error {
	if m.TabletID != tabletID {
		return fmt.Errorf("the manifest is of tablet %d", m.TabletID)
	}
	if m.WantVersion < 1 || !m.Full && m.HaveVersion < 1 {
		return fmt.Errorf("versions (%d, %d]", m.HaveVersion, m.WantVersion)
	}
	sizes := make(map[string]int64, len(m.Files))
	for _, f := range m.Files {
		if !cloneFileName(f.Name) {
			return fmt.Errorf("file name %q", f.Name)
		}
		if _, dup := sizes[f.Name]; dup || f.Size < 0 {
			return fmt.Errorf("file %q listed twice or of size %d", f.Name, f.Size)
		}
		sizes[f.Name] = f.Size
	}
	named := 0
	prev := m.HaveVersion
	if m.Full {
		prev = 0
	}
	for i := range m.Rowsets {
		r := &m.Rowsets[i]
		if r.State != Visible || r.StartVersion <= prev || r.EndVersion < r.StartVersion || r.EndVersion > m.WantVersion {
			return fmt.Errorf("rowset %d (state %d) covers [%d-%d] after version %d, up to %d",
				r.ID, r.State, r.StartVersion, r.EndVersion, prev, m.WantVersion)
		}
		if r.Partial != nil {
			return fmt.Errorf("rowset %d is a partial update", r.ID)
		}
		prev = r.EndVersion
		for _, sg := range r.Segments {
			size, ok := sizes[sg.File]
			if !ok || size != sg.Size {
				return fmt.Errorf("segment %s of rowset %d is not among the files, or of another size", sg.File, r.ID)
			}
			named++
			if sg.PKIndex != "" {
				if _, ok := sizes[sg.PKIndex]; !ok {
					return fmt.Errorf("primary-key index %s of rowset %d is not among the files", sg.PKIndex, r.ID)
				}
				named++
			}
		}
	}
	if named != len(m.Files) {
		return fmt.Errorf("%d files listed, %d named by the rowsets", len(m.Files), named)
	}
	return nil
}

// cloneNeeded decides whether the clone m applies to t: false, nil when t
// holds m's version already. Store.mu is held.
func cloneNeeded(t *tablet, m *Manifest) (bool, error) {
	if t.version > 0 && t.version >= m.WantVersion {
		return false, nil
	}
	if m.Full {
		return true, nil
	}
	if t.version != m.HaveVersion {
		return false, fmt.Errorf("an incremental clone follows version %d, and the tablet is at %d (0: not known): %w",
			m.HaveVersion, t.version, ErrCloneConflict)
	}
	return true, nil
}

// ErrCloneConflict is matched by the error of InstallClone when the
// tablet is not (or no longer) at the version an incremental manifest
// follows. Ask the source again.
var ErrCloneConflict = errors.New("tabletstore: clone does not follow the tablet's version")

// InstallClone brings a tablet to m.WantVersion with the rowsets of m (see
// "Clone"), reading each file of m.Files from fetch. It downloads them into
// the tablet's directory under new rowset ids and makes them durable, then
// in one bbolt transaction records the rowsets (a full clone replaces the
// tablet's visible rowsets, which stay readable to readers that pinned
// them until the stale sweep; an incremental one appends them), their
// delete bitmaps, computed here, and the tablet's version, which is no
// longer broken (see "Lenient tablets"). Pending rowsets of the
// transactions whose rowsets m holds, and those a replica publish found
// at a version up to m.WantVersion, are dropped: their versions are held
// without them.
//
// A tablet that holds m.WantVersion already is left alone (nil). An
// incremental manifest that does not follow the tablet's version fails
// with ErrCloneConflict; a running compaction of the tablet, with
// ErrCompactionConflict. On any error the tablet is as it was, and the
// files written are deleted (or, after a crash, at the next start).
func (s *Store) InstallClone(tabletID int64, m Manifest, fetch func(name string) (io.ReadCloser, error)) error {
	if err := m.check(tabletID); err != nil {
		return fmt.Errorf("tabletstore: cloning tablet %d: bad manifest: %w", tabletID, err)
	}
	s.mu.Lock()
	t := s.tabletLocked(tabletID)
	if t.compacting {
		s.mu.Unlock()
		return fmt.Errorf("tabletstore: cloning tablet %d: a compaction is running: %w", tabletID, ErrCompactionConflict)
	}
	need, err := cloneNeeded(t, &m)
	if err != nil || !need {
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("tabletstore: cloning tablet %d: %w", tabletID, err)
		}
		return nil
	}
	t.compacting = true // no compaction takes the rowsets meanwhile
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		t.compacting = false
		s.mu.Unlock()
	}()

	dir, err := s.makeTabletDir(tabletID)
	if err != nil {
		return err
	}
	installs, local, err := s.cloneRowsets(tabletID, dir, &m)
	if err != nil {
		return err
	}
	var written []string
	cleanup := func() {
		for _, rs := range installs {
			rs.closeFiles()
			s.pks.forget(rs)
		}
		for _, name := range written {
			os.Remove(filepath.Join(dir, name))
		}
	}
	fail := func(err error) error {
		cleanup()
		return fmt.Errorf("tabletstore: cloning tablet %d: %w", tabletID, err)
	}
	for _, f := range m.Files {
		written = append(written, local[f.Name]) // before it exists: a partial file goes too
		if err := s.download(filepath.Join(dir, local[f.Name]), f, fetch); err != nil {
			return fail(err)
		}
	}
	if err := checkSegments(installs); err != nil {
		return fail(err)
	}
	if err := syncDir(s.fs, dir); err != nil {
		return fail(err)
	}
	if err := failpoint.Inject("tabletstore/clone-before-meta-commit"); err != nil {
		return fail(err)
	}

	t.pubMu.Lock()
	defer t.pubMu.Unlock()
	s.mu.Lock()
	if s.tablets[tabletID] != t {
		s.mu.Unlock()
		return fail(errors.New("the tablet was dropped"))
	}
	if need, err = cloneNeeded(t, &m); err != nil || !need {
		// A publish or another clone moved the tablet meanwhile.
		s.mu.Unlock()
		if err == nil {
			cleanup()
			return nil
		}
		return fail(err)
	}
	var base, old []*rowset
	if m.Full {
		old = slices.Clone(t.visible)
	} else {
		base = slices.Clone(t.visible)
	}
	txns := map[int64]bool{}
	for _, r := range m.Rowsets {
		if r.TxnID != 0 {
			txns[r.TxnID] = true
		}
	}
	var drops []*rowset
	for txnID, rs := range t.pending {
		if txns[txnID] || rs.publishAt > 0 && rs.publishAt <= m.WantVersion {
			drops = append(drops, rs)
		}
	}
	s.mu.Unlock()

	// The delete bitmaps, as the publishes of the new rowsets made them on
	// the source: each against the rowsets before it.
	var ms markSet
	for _, rs := range installs {
		var err error
		switch mm := rs.meta.Model; {
		case rs.meta.Delete != nil:
			err = s.deletePublish(base, rs, rs.meta.StartVersion, &ms)
		case mm != nil && mm.MergeOnWrite && len(rs.meta.Segments) > 0:
			_, err = s.mowPublish(base, rs, rs.meta.StartVersion, &ms)
		}
		if err != nil {
			return fail(fmt.Errorf("marking the rows rowset %d replaced: %w", rs.meta.ID, err))
		}
		base = append(base, rs)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRowsets)
		for _, rs := range old {
			if err := b.Delete(rowsetKey(tabletID, rs.meta.ID)); err != nil {
				return err
			}
			if err := deletePrefix(tx.Bucket(bucketDeleteBitmaps), rowsetKey(tabletID, rs.meta.ID)); err != nil {
				return err
			}
		}
		for _, rs := range drops {
			if err := b.Delete(rowsetKey(tabletID, rs.meta.ID)); err != nil {
				return err
			}
		}
		for _, rs := range installs {
			v, err := encodeRowsetMeta(rs.meta)
			if err != nil {
				return err
			}
			if err := b.Put(rowsetKey(tabletID, rs.meta.ID), v); err != nil {
				return err
			}
		}
		if err := putMarks(tx, ms.list); err != nil {
			return err
		}
		return putTabletVersion(tx, tabletID, m.WantVersion, false)
	})
	if err != nil {
		return fail(fmt.Errorf("recording the clone at version %d: %w", m.WantVersion, err))
	}
	s.mu.Lock()
	if m.Full {
		t.visible = slices.Clone(installs)
		if len(old) > 0 {
			t.stale = append(t.stale, &staleGroup{output: &rowset{}, inputs: old, at: s.now()})
			for _, rs := range old {
				rs.retire()
			}
		}
	} else {
		t.visible = append(t.visible, installs...)
	}
	addMarks(ms.list)
	for _, rs := range drops {
		if t.pending[rs.meta.TxnID] == rs {
			delete(t.pending, rs.meta.TxnID)
		}
	}
	t.version, t.broken = m.WantVersion, false
	s.mu.Unlock()
	for _, rs := range drops {
		if err := removeFiles(rs.dir, rs.meta.Segments); err != nil {
			s.log.Warn("deleting the files of a dropped pending rowset", "tablet", tabletID, "rowset", rs.meta.ID, "err", err)
		}
	}
	s.log.Info("installed a clone", "tablet", tabletID, "full", m.Full, "have", m.HaveVersion, "version", m.WantVersion,
		"rowsets", len(installs), "files", len(m.Files))
	s.sweepTablet(tabletID)
	s.requestCompaction(tabletID)
	return nil
}

// cloneRowsets makes the destination's rowsets of m's: new ids, files
// named by them (local maps each source file name to the new one).
func (s *Store) cloneRowsets(tabletID int64, dir string, m *Manifest) (installs []*rowset, local map[string]string, err error) {
	local = make(map[string]string, len(m.Files))
	for _, r := range m.Rowsets {
		id, err := s.nextRowsetID()
		if err != nil {
			return nil, nil, fmt.Errorf("tabletstore: allocating rowset id: %w", err)
		}
		meta := r
		meta.FormatVersion, meta.ID, meta.TabletID, meta.State = rowsetFormatCurrent, id, tabletID, Visible
		meta.Segments = make([]SegmentMeta, len(r.Segments))
		for j, sg := range r.Segments {
			n := sg
			n.File = fmt.Sprintf("%d_%d.seg", id, j)
			local[sg.File] = n.File
			if sg.PKIndex != "" {
				n.PKIndex = fmt.Sprintf("%d_%d.pk", id, j)
				local[sg.PKIndex] = n.PKIndex
			}
			meta.Segments[j] = n
		}
		installs = append(installs, &rowset{meta: meta, dir: dir})
	}
	return installs, local, nil
}

// download copies a file of a clone to path and makes it durable.
func (s *Store) download(path string, f CloneFile, fetch func(name string) (io.ReadCloser, error)) error {
	rc, err := fetch(f.Name)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", f.Name, err)
	}
	defer rc.Close()
	out, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, io.LimitReader(rc, f.Size+1))
	if err == nil && n != f.Size {
		err = fmt.Errorf("%s has %d bytes, the manifest says %d", f.Name, n, f.Size)
	}
	if err == nil {
		err = s.fs.Sync(out)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fetching %s: %w", f.Name, err)
	}
	return nil
}

// checkSegments opens every segment of the new rowsets, which checks its
// footer and indexes, and compares its row count with the record's. (The
// primary-key indexes are checked when the delete bitmaps are computed.)
func checkSegments(installs []*rowset) error {
	for _, rs := range installs {
		for _, sg := range rs.meta.Segments {
			err := func() error {
				f, err := os.Open(filepath.Join(rs.dir, sg.File))
				if err != nil {
					return err
				}
				defer f.Close()
				seg, err := storage.Open(f, sg.Size)
				if err != nil {
					return err
				}
				if seg.NumRows() != sg.NumRows {
					return fmt.Errorf("%d rows, the record says %d: %w", seg.NumRows(), sg.NumRows, storage.ErrCorrupt)
				}
				return nil
			}()
			if err != nil {
				return fmt.Errorf("segment %s of rowset %d: %w", sg.File, rs.meta.ID, err)
			}
		}
	}
	return nil
}
