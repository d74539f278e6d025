package main

import (
	"flag"

	"github.com/strata-db/strata/server"
)

// mysqlTLSFlags registers the MySQL port's TLS flags shared by server and fe.
func mysqlTLSFlags(fs *flag.FlagSet, m *server.MySQLTLS) {
	fs.StringVar(&m.CertFile, "mysql-tls-cert", "", "PEM certificate (chain) offered for TLS on the MySQL port; with --mysql-tls-key")
	fs.StringVar(&m.KeyFile, "mysql-tls-key", "", "PEM private key of --mysql-tls-cert")
	fs.BoolVar(&m.RequireSecureTransport, "require-secure-transport", false,
		"refuse MySQL logins without TLS (require_secure_transport); needs --mysql-tls-cert and --mysql-tls-key")
}
