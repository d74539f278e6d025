package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/mysqlproto"
)

func TestMySQLTLSApply(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "strata"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))

	opts, err := MySQLTLS{}.apply(mysqlproto.Options{MaxConnections: 3})
	require.NoError(t, err)
	require.Nil(t, opts.TLSConfig)
	require.Equal(t, 3, opts.MaxConnections)

	opts, err = MySQLTLS{CertFile: certFile, KeyFile: keyFile, RequireSecureTransport: true}.apply(mysqlproto.Options{})
	require.NoError(t, err)
	require.Len(t, opts.TLSConfig.Certificates, 1)
	require.True(t, opts.RequireSecureTransport)

	// The Flight SQL port takes the certificate only when TLS is required.
	ft, err := MySQLTLS{CertFile: certFile, KeyFile: keyFile, RequireSecureTransport: true}.flightTLS()
	require.NoError(t, err)
	require.Len(t, ft.Certificates, 1)
	ft, err = MySQLTLS{CertFile: certFile, KeyFile: keyFile}.flightTLS()
	require.NoError(t, err)
	require.Nil(t, ft)

	for _, m := range []MySQLTLS{
		{RequireSecureTransport: true},
		{CertFile: certFile},
		{KeyFile: keyFile},
		{CertFile: keyFile, KeyFile: certFile},
		{CertFile: filepath.Join(dir, "missing.pem"), KeyFile: keyFile},
	} {
		_, err := m.apply(mysqlproto.Options{})
		require.Error(t, err, "%+v", m)
	}
}
