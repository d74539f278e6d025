package server

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/strata-db/strata/mysqlproto"
)

// MySQLTLS configures TLS on the MySQL port, for `strata server` and
// `strata fe` alike.
type MySQLTLS struct {
	// CertFile and KeyFile are the PEM certificate (chain) and private key
	// the MySQL port offers TLS with; both empty offer no TLS.
	CertFile, KeyFile string
	// RequireSecureTransport refuses logins without TLS (MySQL's
	// require_secure_transport); it needs CertFile and KeyFile.
	RequireSecureTransport bool
}

// apply sets the TLS fields of opts.
func (m MySQLTLS) apply(opts mysqlproto.Options) (mysqlproto.Options, error) {
	if m.CertFile == "" && m.KeyFile == "" {
		if m.RequireSecureTransport {
			return opts, errors.New("--require-secure-transport needs --mysql-tls-cert and --mysql-tls-key")
		}
		return opts, nil
	}
	if m.CertFile == "" || m.KeyFile == "" {
		return opts, errors.New("--mysql-tls-cert and --mysql-tls-key go together")
	}
	cert, err := tls.LoadX509KeyPair(m.CertFile, m.KeyFile)
	if err != nil {
		return opts, fmt.Errorf("loading the MySQL TLS certificate: %w", err)
	}
	opts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	opts.RequireSecureTransport = m.RequireSecureTransport
	return opts, nil
}

// flightTLS is the TLS configuration of the Arrow Flight SQL port: the
// MySQL port's certificate when secure transport is required, so that
// no client logs in without TLS on either port; nil otherwise.
func (m MySQLTLS) flightTLS() (*tls.Config, error) {
	if !m.RequireSecureTransport {
		return nil, nil
	}
	opts, err := m.apply(mysqlproto.Options{})
	if err != nil {
		return nil, err
	}
	return opts.TLSConfig, nil
}

// mysqlServer returns the MySQL protocol server of a frontend.
func mysqlServer(h mysqlproto.Handler, opts mysqlproto.Options, m MySQLTLS) (*mysqlproto.Server, error) {
	opts, err := m.apply(opts)
	if err != nil {
		return nil, err
	}
	return mysqlproto.NewServer(h, opts), nil
}
