package server

import (
	"context"
	"log/slog"

	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/fe/auth"
	"github.com/strata-db/strata/fe/meta"
)

// openAuth opens the accounts kept in etcd through store (fenced on a
// frontend, so that only the leader writes them; read-only on a backend)
// and keeps them current until the store is closed.
func openAuth(ctx context.Context, store *meta.Store, allowRemoteRoot bool, log *slog.Logger) (*auth.Store, error) {
	return auth.Open(ctx, store, auth.Options{AllowRemoteRootWithoutPassword: allowRemoteRoot, Logger: log})
}

// authorizeLoads makes a load sink check stream loads against the
// accounts: the HTTP Basic credentials, and Load_priv on the target
// table when the load begins.
func authorizeLoads(sk *sink.Sink, a *auth.Store) {
	sk.Authenticator = func(user, password, host string) error {
		_, err := a.AuthenticatePassword(user, password, host)
		return err
	}
	sk.CheckLoad = a.CheckLoad
}
