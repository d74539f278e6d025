package catalog

import (
	"errors"
	"fmt"
)

// Sentinel errors of catalog operations. Operations return them wrapped in a
// *NameError that carries the name and renders Doris's message; test with
// errors.Is.
var (
	ErrDBExists      = errors.New("catalog: database exists")
	ErrDBNotFound    = errors.New("catalog: database not found")
	ErrTableExists   = errors.New("catalog: table exists")
	ErrTableNotFound = errors.New("catalog: table not found")
	// ErrInvalid marks a definition the catalog refuses (no buckets, a
	// table id change in UpdateTable, ...).
	ErrInvalid = errors.New("catalog: invalid definition")
)

// NameError is a catalog error about a named database or table. Its message
// is the text Doris reports to MySQL clients, e.g. "Unknown database 'x'".
type NameError struct {
	Err  error  // one of the sentinels above
	Name string // database or table name as given by the user
	// Drop is set when the error answers DROP DATABASE, whose "not found"
	// text differs in Doris.
	Drop bool
}

func (e *NameError) Error() string {
	switch e.Err {
	case ErrDBExists:
		return fmt.Sprintf("Can't create database '%s'; database exists", e.Name)
	case ErrDBNotFound:
		if e.Drop {
			return fmt.Sprintf("Can't drop database '%s'; database doesn't exist", e.Name)
		}
		return fmt.Sprintf("Unknown database '%s'", e.Name)
	case ErrTableExists:
		return fmt.Sprintf("Table '%s' already exists", e.Name)
	case ErrTableNotFound:
		return fmt.Sprintf("Unknown table '%s'", e.Name)
	}
	return fmt.Sprintf("%v: %s", e.Err, e.Name)
}

func (e *NameError) Unwrap() error { return e.Err }

func dbNotFound(name string) error     { return &NameError{Err: ErrDBNotFound, Name: name} }
func tableNotFound(name string) error  { return &NameError{Err: ErrTableNotFound, Name: name} }
func dbExists(name string) error       { return &NameError{Err: ErrDBExists, Name: name} }
func tableExists(name string) error    { return &NameError{Err: ErrTableExists, Name: name} }
func dropDBNotFound(name string) error { return &NameError{Err: ErrDBNotFound, Name: name, Drop: true} }
