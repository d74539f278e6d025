package auth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/meta/metatest"
	"github.com/strata-db/strata/mysqlproto"
)

func startEtcd(t *testing.T) *meta.Embedded {
	t.Helper()
	e, err := metatest.Start(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(e.Close)
	return e
}

func openStore(t *testing.T, ms *meta.Store, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), ms, opts)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func code(t *testing.T, err error) uint16 {
	t.Helper()
	var me *mysqlproto.Error
	require.True(t, errors.As(err, &me), "%v", err)
	return me.Code
}

func TestDefaultsAndLoopbackRule(t *testing.T) {
	e := startEtcd(t)
	s := openStore(t, meta.NewStore(e.Client()), Options{})
	id, err := s.AuthenticatePassword("root", "", "127.0.0.1")
	require.NoError(t, err)
	require.Equal(t, Identity{User: "root", Host: "%"}, id)
	_, err = s.AuthenticatePassword("admin", "", "::1")
	require.NoError(t, err)
	// Not from loopback: refused, with MySQL's text.
	_, err = s.AuthenticatePassword("root", "", "10.1.2.3")
	require.Equal(t, mysqlproto.ER_ACCESS_DENIED_ERROR, code(t, err))
	require.EqualError(t, err, "Access denied for user 'root'@'10.1.2.3' (using password: NO)")
	_, err = s.AuthenticatePassword("root", "x", "127.0.0.1")
	require.EqualError(t, err, "Access denied for user 'root'@'127.0.0.1' (using password: YES)")
	_, err = s.AuthenticatePassword("nobody", "", "127.0.0.1")
	require.Error(t, err)

	// The flag lifts the rule.
	open := NewStatic(DefaultState(), Options{AllowRemoteRootWithoutPassword: true})
	_, err = open.AuthenticatePassword("root", "", "10.1.2.3")
	require.NoError(t, err)

	// Root with a password logs in with it from anywhere.
	ms := meta.NewStore(e.Client())
	_, err = s.Update(context.Background(), func(st *State) (bool, error) {
		return true, st.SetPassword(Identity{User: "root", Host: "%"}, mysqlproto.NativeHash("pw"))
	})
	require.NoError(t, err)
	_, err = s.AuthenticatePassword("root", "pw", "10.1.2.3")
	require.NoError(t, err)
	_, err = s.AuthenticatePassword("root", "", "127.0.0.1")
	require.Error(t, err)
	// A second process sees it through its watch.
	other := openStore(t, ms, Options{})
	_, err = other.AuthenticatePassword("root", "pw", "10.1.2.3")
	require.NoError(t, err)
}

func TestWatchBringsChanges(t *testing.T) {
	e := startEtcd(t)
	leader := openStore(t, meta.NewStore(e.Client()), Options{})
	follower := openStore(t, meta.NewStore(e.Client()), Options{})
	rev, err := leader.Update(context.Background(), func(st *State) (bool, error) {
		if _, err := st.CreateUser(Identity{User: "u", Host: "%"}, mysqlproto.NativeHash("pw"), false, ""); err != nil {
			return false, err
		}
		return true, st.Grant(SelectPriv, Level{DB: "db1"}, Grantee{User: Identity{User: "u", Host: "%"}})
	})
	require.NoError(t, err)
	require.Positive(t, rev)
	// The leader sees its own write at once.
	eff, _ := leader.Effective("u", "1.2.3.4")
	require.True(t, eff.Table("db1", "t", SelectPriv))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, follower.WaitRevision(ctx, rev))
	eff, _ = follower.Effective("u", "1.2.3.4")
	require.True(t, eff.Table("db1", "t", SelectPriv))
	require.False(t, eff.Table("db1", "t", LoadPriv))
	require.False(t, eff.Table("db2", "t", SelectPriv))
	_, err = follower.AuthenticatePassword("u", "pw", "1.2.3.4")
	require.NoError(t, err)

	// A revision no auth write carries is reached by re-reading.
	_, _, err = meta.NewStore(e.Client()).Txn().Put(meta.Key("other"), 1).Commit(ctx)
	require.NoError(t, err)
	cur, err := e.Client().Get(ctx, "x")
	require.NoError(t, err)
	require.NoError(t, follower.WaitRevision(ctx, cur.Header.Revision))
	require.GreaterOrEqual(t, follower.Revision(), cur.Header.Revision)
}

func TestWatchRelistsAfterCompaction(t *testing.T) {
	e := startEtcd(t)
	ctx := context.Background()
	ms := meta.NewStore(e.Client())
	follower := openStore(t, ms, Options{})
	// Stop the follower's watch from seeing events by compacting past
	// several writes made while it runs; it must end up current anyway.
	writer := NewStatic(DefaultState(), Options{})
	writer.ms = ms
	var last int64
	for i, name := range []string{"a", "b", "c"} {
		rev, err := writer.Update(ctx, func(st *State) (bool, error) {
			return st.CreateUser(Identity{User: name, Host: "%"}, nil, false, "")
		})
		require.NoError(t, err, i)
		last = rev
	}
	_, err := e.Client().Compact(ctx, last)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return follower.State().User(Identity{User: "c", Host: "%"}) != nil },
		5*time.Second, 10*time.Millisecond)
}

func TestFencedWritesOnlyByLeader(t *testing.T) {
	e := startEtcd(t)
	fenced := meta.NewFencedStore(e.Client())
	s := openStore(t, fenced, Options{})
	_, err := s.Update(context.Background(), func(st *State) (bool, error) { return st.CreateRole("r", false) })
	require.ErrorIs(t, err, meta.ErrNotLeader)
	require.Nil(t, s.State().Role("r"))
}

func TestConcurrentUpdatesAllLand(t *testing.T) {
	e := startEtcd(t)
	a := openStore(t, meta.NewStore(e.Client()), Options{})
	b := openStore(t, meta.NewStore(e.Client()), Options{})
	done := make(chan error, 20)
	for i := range 20 {
		s := a
		if i%2 == 1 {
			s = b
		}
		go func() {
			_, err := s.Update(context.Background(), func(st *State) (bool, error) {
				return st.CreateRole(string(rune('a'+i)), false)
			})
			done <- err
		}()
	}
	for range 20 {
		require.NoError(t, <-done)
	}
	require.Eventually(t, func() bool { return len(a.State().Roles) == 22 && len(b.State().Roles) == 22 }, 5*time.Second, 10*time.Millisecond)
}

func TestRereadAfterDeleteInstallsDefaults(t *testing.T) {
	e := startEtcd(t)
	ctx := context.Background()
	// A store without a watch: only read() brings it what etcd holds,
	// as after a watch that fell behind a compaction.
	s := NewStatic(DefaultState(), Options{})
	s.ms = meta.NewStore(e.Client())
	_, err := s.Update(ctx, func(st *State) (bool, error) {
		return st.CreateUser(Identity{User: "u", Host: "%"}, nil, false, "")
	})
	require.NoError(t, err)
	require.NotNil(t, s.State().User(Identity{User: "u", Host: "%"}))
	_, err = e.Client().Delete(ctx, stateKey)
	require.NoError(t, err)
	require.NoError(t, s.read(ctx))
	require.Nil(t, s.State().User(Identity{User: "u", Host: "%"}), "the deleted document must give way to the defaults")
}

func TestOpenWarnsOfEmptyPasswords(t *testing.T) {
	e := startEtcd(t)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	s := openStore(t, meta.NewStore(e.Client()), Options{Logger: log})
	out := buf.String()
	require.Contains(t, out, "level=WARN")
	require.Contains(t, out, "user root has an empty password, accepted from loopback addresses only")
	require.Contains(t, out, "user admin has an empty password")
	require.Contains(t, out, "look local")

	_, err := s.Update(context.Background(), func(st *State) (bool, error) {
		for _, u := range []string{RootUser, AdminUser} {
			if err := st.SetPassword(Identity{User: u, Host: "%"}, mysqlproto.NativeHash("pw")); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	require.NoError(t, err)
	buf.Reset()
	openStore(t, meta.NewStore(e.Client()), Options{Logger: log})
	require.NotContains(t, buf.String(), "empty password")
}
