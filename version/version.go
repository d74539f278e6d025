// Package version holds the build's version strings.
package version

// Version is Strata's release version; -ldflags "-X" may override it.
var Version = "0.1.0-dev"

// MySQLVersion is the server version the MySQL handshake, @@version and
// VERSION() report. Drivers branch on it; 5.7.99 keeps scanners from matching
// real MySQL 5.7 advisories.
const MySQLVersion = "5.7.99"

// VersionComment is @@version_comment, which the mysql client prints after
// "Server version:".
func VersionComment() string { return "Strata version " + Version }
