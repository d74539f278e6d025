package main

import "github.com/strata-db/strata/bench/strataload"

// flatColumnTypes are Strata's lineorder_flat column types (see
// strataload.FlatColumnTypes).
var flatColumnTypes = strataload.FlatColumnTypes

// createFlatTable returns the CREATE TABLE statement for lineorder_flat (see
// strataload.CreateFlatTable).
func createFlatTable(columns []string, buckets int, bigKeys bool) string {
	return strataload.CreateFlatTable(columns, buckets, bigKeys)
}
