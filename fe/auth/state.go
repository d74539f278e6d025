package auth

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
)

// The built-in users and roles, as in Doris: root holds the operator
// role (Node, Admin and Grant), admin the admin role (Admin and Grant).
// Neither user nor role may be dropped, and the roles' grants are fixed.
const (
	RootUser     = "root"
	AdminUser    = "admin"
	OperatorRole = "operator"
	AdminRole    = "admin"
)

// stateVersion is the version of the encoded State; a store refuses a
// document of a later version.
const stateVersion = 1

// Identity is a user identity: a user name and the host pattern it may
// connect from ('%' any host, a literal IP, or a pattern with % and _).
type Identity struct {
	User string `json:"user"`
	Host string `json:"host"`
}

// String is the identity as MySQL quotes it: 'user'@'host'.
func (id Identity) String() string { return "'" + id.User + "'@'" + id.Host + "'" }

// User is one user identity and what it holds.
type User struct {
	Identity
	// Password is the mysql_native_password hash SHA1(SHA1(password)) in
	// upper-case hex without the leading '*'; "" is the empty password.
	Password string `json:"password,omitempty"`
	// Roles are the roles granted to the user, sorted.
	Roles  []string `json:"roles,omitempty"`
	Grants Grants   `json:"grants"`
}

// HasPassword reports whether the user's password is not empty.
func (u *User) HasPassword() bool { return u.Password != "" }

// PasswordHash is the decoded hash; nil for the empty password.
func (u *User) PasswordHash() []byte {
	if u.Password == "" {
		return nil
	}
	b, err := hex.DecodeString(u.Password)
	if err != nil {
		return []byte{0} // matches no password
	}
	return b
}

// Role is a named set of grants.
type Role struct {
	Name   string `json:"name"`
	Grants Grants `json:"grants"`
}

// State is every user and role: the one document kept in etcd. A State
// reached through a Store is immutable; Update hands its function a copy.
type State struct {
	Version int     `json:"version"`
	Users   []*User `json:"users"`
	Roles   []*Role `json:"roles"`
}

// DefaultState is the state of a cluster where no account was ever
// changed: root and admin with empty passwords, and the built-in roles.
func DefaultState() *State {
	op := &Role{Name: OperatorRole, Grants: Grants{Global: NodePriv | AdminPriv | GrantPriv}}
	adm := &Role{Name: AdminRole, Grants: Grants{Global: AdminPriv | GrantPriv}}
	return &State{
		Version: stateVersion,
		Users: []*User{
			{Identity: Identity{User: RootUser, Host: "%"}, Roles: []string{OperatorRole}},
			{Identity: Identity{User: AdminUser, Host: "%"}, Roles: []string{AdminRole}},
		},
		Roles: []*Role{op, adm},
	}
}

// Clone returns a deep copy.
func (s *State) Clone() *State {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("BUG: encoding auth state: %v", err))
	}
	var c State
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("BUG: decoding auth state: %v", err))
	}
	return &c
}

func builtinUser(name string) bool { return name == RootUser || name == AdminUser }

func builtinRole(name string) bool { return name == OperatorRole || name == AdminRole }

// User finds the identity exactly as created ('u'@'h').
func (s *State) User(id Identity) *User {
	for _, u := range s.Users {
		if u.User == id.User && u.Host == id.Host {
			return u
		}
	}
	return nil
}

// Role finds a role by name.
func (s *State) Role(name string) *Role {
	for _, r := range s.Roles {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Match finds the identity a client connecting as user from host (an
// IP address) logs in as: of the identities of that user whose host
// pattern matches, the most specific (a literal host before a pattern,
// a pattern before '%').
func (s *State) Match(user, host string) *User {
	var best *User
	bestScore := -1
	for _, u := range s.Users {
		if u.User != user || !hostMatch(u.Host, host) {
			continue
		}
		if sc := hostSpecificity(u.Host); sc > bestScore {
			best, bestScore = u, sc
		}
	}
	return best
}

// hostSpecificity ranks host patterns: literal hosts first, then patterns
// by their number of literal characters, '%' last.
func hostSpecificity(pattern string) int {
	if !strings.ContainsAny(pattern, "%_") {
		return 1 << 20
	}
	return len(pattern) - strings.Count(pattern, "%") - strings.Count(pattern, "_")
}

// hostMatch matches host against a MySQL host pattern, in which % stands
// for any run of characters and _ for one character. Loopback addresses
// also match 'localhost'.
func hostMatch(pattern, host string) bool {
	if pattern == "%" || pattern == "" {
		return true
	}
	if strings.EqualFold(pattern, "localhost") {
		return IsLoopback(host)
	}
	return sql.MatchLike(strings.ToLower(pattern), strings.ToLower(host))
}

// IsLoopback reports whether host is a loopback address (127.0.0.0/8,
// ::1) or names one (localhost).
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if i := strings.IndexByte(h, '%'); i >= 0 { // IPv6 zone
		h = h[:i]
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Effective merges what u holds itself and through its roles.
func (s *State) Effective(u *User) *Effective {
	e := &Effective{}
	if u == nil {
		return e
	}
	e.merge(&u.Grants)
	for _, name := range u.Roles {
		if r := s.Role(name); r != nil {
			e.merge(&r.Grants)
		}
	}
	return e
}

// accountError is MySQL's ER_CANNOT_USER: "Operation CREATE USER failed
// for 'u'@'h'".
func accountError(op, who string) error {
	return mysqlproto.NewError(ErrCannotUser, "Operation %s failed for %s", op, who)
}

// MySQL error numbers of account statements.
const (
	ErrCannotUser       uint16 = 1396 // ER_CANNOT_USER
	ErrPasswordNoMatch  uint16 = 1133 // ER_PASSWORD_NO_MATCH
	ErrPasswordLength   uint16 = 1372 // ER_PASSWD_LENGTH
	ErrNonexistingGrant uint16 = 1141 // ER_NONEXISTING_GRANT
	ErrUnknown          uint16 = 1105
)

// CreateUser adds a user identity with password hash (nil: empty) and
// optionally a role. An identity that exists fails unless ifNotExists
// (then nothing changes and created is false).
func (s *State) CreateUser(id Identity, hash []byte, ifNotExists bool, role string) (created bool, err error) {
	if id.User == "" {
		return false, accountError("CREATE USER", id.String())
	}
	if builtinUser(id.User) {
		// root and admin are the built-in identities 'root'@'%' and
		// 'admin'@'%' only: another identity of that name would log in
		// where it matches and pass for them.
		return false, mysqlproto.NewError(ErrUnknown, "Can not create system user")
	}
	if s.User(id) != nil {
		if ifNotExists {
			return false, nil
		}
		return false, accountError("CREATE USER", id.String())
	}
	u := &User{Identity: id, Password: strings.ToUpper(hex.EncodeToString(hash))}
	if role != "" {
		if role == OperatorRole {
			return false, mysqlproto.NewError(ErrUnknown, "Can not granted user to role: %s", role)
		}
		if s.Role(role) == nil {
			return false, mysqlproto.NewError(ErrUnknown, "Role: %s does not exist", role)
		}
		u.Roles = []string{role}
	}
	s.Users = append(s.Users, u)
	s.sortUsers()
	return true, nil
}

func (s *State) sortUsers() {
	slices.SortFunc(s.Users, func(a, b *User) int {
		if c := strings.Compare(a.User, b.User); c != 0 {
			return c
		}
		return strings.Compare(a.Host, b.Host)
	})
}

// DropUser removes a user identity. A missing one fails unless ifExists;
// root and admin cannot be dropped.
func (s *State) DropUser(id Identity, ifExists bool) (dropped bool, err error) {
	if builtinUser(id.User) {
		return false, mysqlproto.NewError(ErrUnknown, "Can not drop user %s", id.User)
	}
	i := slices.IndexFunc(s.Users, func(u *User) bool { return u.Identity == id })
	if i < 0 {
		if ifExists {
			return false, nil
		}
		return false, accountError("DROP USER", id.String())
	}
	s.Users = slices.Delete(s.Users, i, i+1)
	return true, nil
}

// SetPassword changes an identity's password hash (nil: empty).
func (s *State) SetPassword(id Identity, hash []byte) error {
	u := s.User(id)
	if u == nil {
		return mysqlproto.NewError(ErrPasswordNoMatch, "Can't find any matching row in the user table")
	}
	u.Password = strings.ToUpper(hex.EncodeToString(hash))
	return nil
}

// CreateRole adds a role with no grants.
func (s *State) CreateRole(name string, ifNotExists bool) (bool, error) {
	if name == "" {
		return false, accountError("CREATE ROLE", "''")
	}
	if s.Role(name) != nil {
		if ifNotExists {
			return false, nil
		}
		return false, accountError("CREATE ROLE", "'"+name+"'")
	}
	s.Roles = append(s.Roles, &Role{Name: name})
	slices.SortFunc(s.Roles, func(a, b *Role) int { return strings.Compare(a.Name, b.Name) })
	return true, nil
}

// DropRole removes a role and takes it from every user that held it.
func (s *State) DropRole(name string, ifExists bool) (bool, error) {
	if builtinRole(name) {
		return false, mysqlproto.NewError(ErrUnknown, "Can not drop role %s", name)
	}
	i := slices.IndexFunc(s.Roles, func(r *Role) bool { return r.Name == name })
	if i < 0 {
		if ifExists {
			return false, nil
		}
		return false, accountError("DROP ROLE", "'"+name+"'")
	}
	s.Roles = slices.Delete(s.Roles, i, i+1)
	for _, u := range s.Users {
		u.Roles = slices.DeleteFunc(u.Roles, func(r string) bool { return r == name })
	}
	return true, nil
}

// Grantee is who a grant goes to: a role (Role != "") or a user identity.
type Grantee struct {
	Role string
	User Identity
}

func (g Grantee) String() string {
	if g.Role != "" {
		return "ROLE '" + g.Role + "'"
	}
	return g.User.String()
}

// grants finds the grants of a grantee to change.
func (s *State) grants(to Grantee, op string) (*Grants, error) {
	if to.Role != "" {
		if builtinRole(to.Role) {
			return nil, mysqlproto.NewError(ErrUnknown, "Can not %s privileges of role %s", strings.ToLower(op), to.Role)
		}
		r := s.Role(to.Role)
		if r == nil {
			return nil, mysqlproto.NewError(ErrUnknown, "Role: %s does not exist", to.Role)
		}
		return &r.Grants, nil
	}
	u := s.User(to.User)
	if u == nil {
		return nil, mysqlproto.NewError(ErrPasswordNoMatch, "user %s does not exist", to.User)
	}
	if u.User == RootUser {
		return nil, mysqlproto.NewError(ErrUnknown, "Can not %s privileges of user root", strings.ToLower(op))
	}
	return &u.Grants, nil
}

// checkLevel refuses privileges that do not apply at a level: Node and
// Admin are global only.
func checkLevel(p Priv, l Level) error {
	if !l.Global() && p&(NodePriv|AdminPriv) != 0 {
		return mysqlproto.NewError(ErrUnknown, "%s can only be granted on resource *.*", (p & (NodePriv | AdminPriv)).String())
	}
	return nil
}

// Grant gives p at l to a grantee.
func (s *State) Grant(p Priv, l Level, to Grantee) error {
	if err := checkLevel(p, l); err != nil {
		return err
	}
	g, err := s.grants(to, "GRANT")
	if err != nil {
		return err
	}
	g.Add(l, p)
	return nil
}

// Revoke takes p at l from a grantee. Revoking what the grantee does not
// hold at that level is MySQL's ER_NONEXISTING_GRANT.
func (s *State) Revoke(p Priv, l Level, from Grantee) error {
	g, err := s.grants(from, "REVOKE")
	if err != nil {
		return err
	}
	if g.At(l)&p == 0 {
		if from.Role != "" {
			return mysqlproto.NewError(ErrNonexistingGrant, "There is no such grant defined for role '%s' on %s", from.Role, l)
		}
		return mysqlproto.NewError(ErrNonexistingGrant, "There is no such grant defined for user '%s' on host '%s'", from.User.User, from.User.Host)
	}
	g.Remove(l, p)
	return nil
}

// GrantRole gives roles to a user identity. The operator role is root's
// alone: it cannot be granted.
func (s *State) GrantRole(roles []string, to Identity) error {
	u := s.User(to)
	if u == nil {
		return mysqlproto.NewError(ErrPasswordNoMatch, "user %s does not exist", to)
	}
	for _, r := range roles {
		if r == OperatorRole {
			return mysqlproto.NewError(ErrUnknown, "Can not granted/revoke role to user: %s", r)
		}
		if s.Role(r) == nil {
			return mysqlproto.NewError(ErrUnknown, "Role: %s does not exist", r)
		}
		if !slices.Contains(u.Roles, r) {
			u.Roles = append(u.Roles, r)
		}
	}
	slices.Sort(u.Roles)
	return nil
}

// RevokeRole takes roles from a user identity.
func (s *State) RevokeRole(roles []string, from Identity) error {
	u := s.User(from)
	if u == nil {
		return mysqlproto.NewError(ErrPasswordNoMatch, "user %s does not exist", from)
	}
	if u.User == RootUser {
		return mysqlproto.NewError(ErrUnknown, "Can not revoke role from user root")
	}
	for _, r := range roles {
		if !slices.Contains(u.Roles, r) {
			return mysqlproto.NewError(ErrUnknown, "Role: %s is not granted to %s", r, from)
		}
		u.Roles = slices.DeleteFunc(u.Roles, func(x string) bool { return x == r })
	}
	return nil
}

// ParseHashHex decodes a password hash as IDENTIFIED BY PASSWORD and SET
// PASSWORD = '*HEX' give it: '*' and 40 hex digits ("" is the empty
// password).
func ParseHashHex(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	h := strings.TrimPrefix(s, "*")
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 20 || len(h) != len(s)-1 {
		return nil, mysqlproto.NewError(ErrPasswordLength, "Password hash should be a 41-digit hexadecimal number")
	}
	return b, nil
}

// FormatHash is a hash as MySQL's PASSWORD() prints it: '*' and 40
// upper-case hex digits; "" for the empty password.
func FormatHash(hash []byte) string {
	if len(hash) == 0 {
		return ""
	}
	return "*" + strings.ToUpper(hex.EncodeToString(hash))
}
