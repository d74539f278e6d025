// Package auth keeps users, roles and their privileges (Doris's model:
// Node_priv, Admin_priv, Grant_priv, Select_priv, Load_priv, Alter_priv,
// Create_priv, Drop_priv, Usage_priv at the levels *.*, db.* and db.tbl)
// and checks logins against them.
//
// Every account lives in one JSON document under /strata/auth/state
// (a [State]), written by the leader with a compare-and-swap on the
// document's mod revision through a fenced meta.Store: a handful of users
// and roles fit one value, and one document makes every change atomic.
// Until the first change no document exists and the [DefaultState]
// holds: root and admin with empty passwords. Every frontend and backend
// process keeps the state current with a watch on /strata/auth/; a
// watch that falls behind etcd's compaction re-reads the document.
//
// Passwords are kept only as their mysql_native_password hash,
// SHA1(SHA1(password)). The empty password of root and admin is accepted
// only from a loopback address unless the process is configured to allow
// it from anywhere ([Options.AllowRemoteRootWithoutPassword]).
package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/mysqlproto"
)

var (
	// statePrefix holds every auth key; stateKey is the one document.
	statePrefix = meta.KeyPrefix("auth")
	stateKey    = meta.Key("auth", "state")
)

// Options configure a Store.
type Options struct {
	// AllowRemoteRootWithoutPassword admits root and admin with an empty
	// password from any address; by default only from loopback.
	AllowRemoteRootWithoutPassword bool
	Logger                         *slog.Logger
}

// Store is a process's current view of the accounts, and the leader's
// way to change them. Safe for concurrent use.
type Store struct {
	ms   *meta.Store
	opts Options
	log  *slog.Logger

	mu      sync.Mutex // protects the fields below
	state   *State     // immutable
	modRev  int64      // mod revision of the document; 0: absent
	rev     int64      // etcd revision the view reflects
	changed chan struct{}

	cancel context.CancelFunc
	done   chan struct{}
}

// Open reads the accounts and keeps them current until Close.
func Open(ctx context.Context, ms *meta.Store, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Store{ms: ms, opts: opts, log: opts.Logger, changed: make(chan struct{}), done: make(chan struct{})}
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	s.warnEmptyPasswords()
	wctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.watch(wctx)
	return s, nil
}

// warnEmptyPasswords logs a warning for each built-in user whose password
// is empty: where it is accepted from, and why loopback is weaker than it
// sounds.
func (s *Store) warnEmptyPasswords() {
	st := s.State()
	for _, name := range []string{RootUser, AdminUser} {
		u := st.User(Identity{User: name, Host: "%"})
		if u == nil || u.HasPassword() {
			continue
		}
		if s.opts.AllowRemoteRootWithoutPassword {
			s.log.Warn("auth: user "+name+" has an empty password, accepted from any address (allow-remote-root-without-password); set one with SET PASSWORD",
				"user", name)
			continue
		}
		s.log.Warn("auth: user "+name+" has an empty password, accepted from loopback addresses only; "+
			"a local proxy, load balancer or tunnel makes remote clients look local, so set one with SET PASSWORD", "user", name)
	}
}

// NewStatic returns a Store over a fixed state that is neither read from
// nor written to etcd; Update fails. For tests and tools.
func NewStatic(st *State, opts Options) *Store {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	done := make(chan struct{})
	close(done)
	return &Store{opts: opts, log: opts.Logger, state: st, changed: make(chan struct{}), done: done, cancel: func() {}}
}

// Close stops the watch.
func (s *Store) Close() {
	s.cancel()
	<-s.done
}

// decode reads a stored document.
func decode(b []byte) (*State, error) {
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("auth: decoding %s: %w", stateKey, err)
	}
	if st.Version > stateVersion {
		return nil, fmt.Errorf("auth: %s has version %d; this process knows up to %d", stateKey, st.Version, stateVersion)
	}
	return &st, nil
}

// read re-reads the document and installs it.
func (s *Store) read(ctx context.Context) error {
	resp, err := s.ms.Client().Get(ctx, stateKey)
	if err != nil {
		return fmt.Errorf("auth: reading %s: %w", stateKey, err)
	}
	// An absent document (never written, or deleted) is the default
	// state as of the read's revision, as the watch installs a delete at
	// its revision: a deletion the watch missed (compacted away) must
	// replace the view the document gave.
	st, modRev := DefaultState(), resp.Header.Revision
	if len(resp.Kvs) > 0 {
		if st, err = decode(resp.Kvs[0].Value); err != nil {
			return err
		}
		modRev = resp.Kvs[0].ModRevision
	}
	s.install(st, modRev, resp.Header.Revision)
	return nil
}

// install makes st (at modRev) the view, unless the view is newer, and
// advances the view's revision to rev.
func (s *Store) install(st *State, modRev, rev int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if modRev >= s.modRev {
		s.state, s.modRev = st, modRev
	}
	s.rev = max(s.rev, rev)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Store) watch(ctx context.Context) {
	defer close(s.done)
	cli := s.ms.Client()
	for ctx.Err() == nil {
		s.mu.Lock()
		rev := s.rev
		s.mu.Unlock()
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		ch := cli.Watch(wctx, statePrefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		for resp := range ch {
			if resp.CompactRevision != 0 || errors.Is(resp.Err(), rpctypes.ErrCompacted) || resp.Err() != nil {
				if resp.Err() != nil && resp.CompactRevision == 0 {
					s.log.Warn("auth: watch error; re-reading", "err", resp.Err())
				}
				break
			}
			for _, ev := range resp.Events {
				if string(ev.Kv.Key) != stateKey {
					continue
				}
				st := DefaultState()
				if ev.Type == clientv3.EventTypePut {
					var err error
					if st, err = decode(ev.Kv.Value); err != nil {
						s.log.Error("auth: undecodable accounts; keeping the previous ones", "err", err)
						continue
					}
				}
				s.install(st, ev.Kv.ModRevision, ev.Kv.ModRevision)
			}
			s.install(s.State(), 0, resp.Header.Revision)
		}
		cancel()
		for ctx.Err() == nil {
			lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
			err := s.read(lctx)
			lcancel()
			if err == nil {
				break
			}
			s.log.Warn("auth: re-reading accounts", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// State is the current accounts. The caller must not change it.
func (s *Store) State() *State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Revision is the etcd revision the view reflects.
func (s *Store) Revision() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev
}

// WaitRevision waits until the view reflects etcd revision rev. When the
// watch has not brought it within a moment (a revision of no auth
// write), the document is read again, which reflects every revision
// up to the read's.
func (s *Store) WaitRevision(ctx context.Context, rev int64) error {
	if s.ms == nil {
		return nil
	}
	deadline := time.After(200 * time.Millisecond)
	for {
		s.mu.Lock()
		cur, ch := s.rev, s.changed
		s.mu.Unlock()
		if cur >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-deadline:
			return s.read(ctx)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ErrStatic is returned by Update of a Store made by NewStatic.
var ErrStatic = errors.New("auth: the accounts are fixed")

// Update applies fn to a copy of the current accounts and writes the
// result, retrying on a concurrent change. fn returning an error, or
// false (nothing changed), writes nothing. The write is fenced: a process
// that does not lead gets meta.ErrNotLeader. It returns the revision of
// the write (0 when nothing was written).
func (s *Store) Update(ctx context.Context, fn func(*State) (changed bool, err error)) (int64, error) {
	if s.ms == nil {
		return 0, ErrStatic
	}
	for {
		resp, err := s.ms.Client().Get(ctx, stateKey)
		if err != nil {
			return 0, fmt.Errorf("auth: reading %s: %w", stateKey, err)
		}
		st, modRev := DefaultState(), int64(0)
		if len(resp.Kvs) > 0 {
			if st, err = decode(resp.Kvs[0].Value); err != nil {
				return 0, err
			}
			modRev = resp.Kvs[0].ModRevision
		}
		changed, err := fn(st)
		if err != nil || !changed {
			return 0, err
		}
		st.Version = stateVersion
		rev, ok, err := s.ms.Txn().IfModRev(stateKey, modRev).Put(stateKey, st).Commit(ctx)
		if err != nil {
			return 0, err
		}
		if ok {
			// Installed at once, so that this process's next statement
			// sees the change before the watch brings it.
			s.install(st, rev, rev)
			return rev, nil
		}
	}
}

// Authenticate checks a MySQL login: user connecting from host (an IP
// address) with cred. It returns the identity the client logs in as, or
// ER_ACCESS_DENIED_ERROR.
func (s *Store) Authenticate(user, host string, cred mysqlproto.Credentials) (Identity, error) {
	u := s.State().Match(user, host)
	if u == nil || !cred.Match(u.PasswordHash()) || !s.emptyPasswordAllowed(u, host) {
		return Identity{}, deniedError(user, host, !cred.Empty())
	}
	return u.Identity, nil
}

// AuthenticatePassword checks a password sent in clear (HTTP Basic
// authentication of a stream load) as Authenticate checks a login.
func (s *Store) AuthenticatePassword(user, password, host string) (Identity, error) {
	return s.Authenticate(user, host, plainCredentials(password))
}

// emptyPasswordAllowed applies the rule on root's and admin's empty
// password: loopback only, unless configured otherwise.
func (s *Store) emptyPasswordAllowed(u *User, host string) bool {
	if u.HasPassword() || !builtinUser(u.User) || s.opts.AllowRemoteRootWithoutPassword {
		return true
	}
	return IsLoopback(host)
}

func deniedError(user, host string, usingPassword bool) error {
	using := "NO"
	if usingPassword {
		using = "YES"
	}
	return mysqlproto.NewError(mysqlproto.ER_ACCESS_DENIED_ERROR, "Access denied for user '%s'@'%s' (using password: %s)", user, host, using)
}

// plainCredentials is a password sent in clear.
type plainCredentials string

func (p plainCredentials) Match(hash []byte) bool {
	got := mysqlproto.NativeHash(string(p))
	if len(hash) == 0 || len(got) == 0 {
		return len(hash) == 0 && len(got) == 0
	}
	return subtle.ConstantTimeCompare(got, hash) == 1
}

func (p plainCredentials) Empty() bool { return p == "" }

// Effective is what the client user connecting from host may do: the
// privileges of the identity it logs in as (none when no identity
// matches any more).
func (s *Store) Effective(user, host string) (*Effective, Identity) {
	st := s.State()
	u := st.Match(user, host)
	if u == nil {
		return &Effective{}, Identity{User: user, Host: host}
	}
	return st.Effective(u), u.Identity
}

// Login is the identity a client user connecting from host logs in as
// now; ok is false when none matches.
func (s *Store) Login(user, host string) (id Identity, ok bool) {
	u := s.State().Match(user, host)
	if u == nil {
		return Identity{}, false
	}
	return u.Identity, true
}

// EffectiveOf is what identity id may do now: none when it was dropped.
func (s *Store) EffectiveOf(id Identity) *Effective {
	st := s.State()
	return st.Effective(st.User(id))
}

// CheckLoad checks that the client user connecting from host may load
// into db.table (Load_priv), as a stream load does when it begins. The
// error is MySQL's ER_TABLEACCESS_DENIED_ERROR.
func (s *Store) CheckLoad(user, host, db, table string) error {
	if e, _ := s.Effective(user, host); e.Table(db, table, LoadPriv) {
		return nil
	}
	return mysqlproto.NewError(mysqlproto.ER_TABLEACCESS_DENIED_ERROR, "LOAD command denied to user '%s'@'%s' for table '%s.%s'", user, host, db, table)
}
