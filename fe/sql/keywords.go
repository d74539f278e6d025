package sql

// reservedWords cannot be used as bare identifiers (back-quote them). The
// set is MySQL's reserved words that matter to the grammar; words such as
// DATE, YEAR, COMMENT, STATUS, VALUE, TYPE and KEY stay usable as column
// names, as BI tools and the SSB schema need.
var reservedWords = map[string]bool{
	"ALL": true, "ALTER": true, "AND": true, "AS": true, "ASC": true, "BETWEEN": true, "BY": true,
	"CASE": true, "COLLATE": true, "CREATE": true, "CROSS": true, "DELETE": true, "DESC": true,
	"DESCRIBE": true, "DISTINCT": true, "DISTINCTROW": true, "DIV": true, "DROP": true, "ELSE": true,
	"EXCEPT": true, "EXISTS": true, "EXPLAIN": true, "FALSE": true, "FOR": true, "FROM": true,
	"GROUP": true, "HAVING": true, "IN": true, "INNER": true, "INSERT": true, "INTERSECT": true,
	"INTERVAL": true, "INTO": true, "IS": true, "JOIN": true, "LEFT": true, "LIKE": true, "LIMIT": true,
	"MOD": true, "NATURAL": true, "NOT": true, "NULL": true, "ON": true, "OR": true, "ORDER": true,
	"OUTER": true, "REGEXP": true, "RIGHT": true, "RLIKE": true, "SELECT": true, "SET": true,
	"SHOW": true, "STRAIGHT_JOIN": true, "TABLE": true, "THEN": true, "TRUE": true, "UNION": true,
	"UPDATE": true, "USING": true, "VALUES": true, "WHEN": true, "WHERE": true, "WITH": true,
	"XOR": true, "MINUS": true, "SEPARATOR": true, "OVER": true,
}

// tableAliasStop are non-reserved words that end a table reference instead
// of being taken as its alias.
var tableAliasStop = map[string]bool{
	"PARTITION": true, "PARTITIONS": true, "TABLET": true, "USE": true, "FORCE": true, "IGNORE": true,
	"FULL": true, "LATERAL": true, "TEMPORARY": true, "OFFSET": true, "WINDOW": true, "SEMI": true,
	"ANTI": true, "TABLESAMPLE": true, "LOCK": true,
}

// upperKey returns the upper-case form of an ASCII word in buf, for map
// lookups that do not allocate. ok is false for words too long to be a
// keyword.
func upperKey(buf *[32]byte, w string) ([]byte, bool) {
	if len(w) > len(buf) {
		return nil, false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(w)], true
}

func isReserved(w string) bool {
	var buf [32]byte
	k, ok := upperKey(&buf, w)
	return ok && reservedWords[string(k)]
}

func isTableAliasStop(w string) bool {
	var buf [32]byte
	k, ok := upperKey(&buf, w)
	return ok && (reservedWords[string(k)] || tableAliasStop[string(k)])
}

// intervalUnits are the units of INTERVAL, EXTRACT and TIMESTAMPADD.
var intervalUnits = map[string]bool{
	"MICROSECOND": true, "SECOND": true, "MINUTE": true, "HOUR": true, "DAY": true, "WEEK": true,
	"MONTH": true, "QUARTER": true, "YEAR": true, "SECOND_MICROSECOND": true, "MINUTE_MICROSECOND": true,
	"MINUTE_SECOND": true, "HOUR_MICROSECOND": true, "HOUR_SECOND": true, "HOUR_MINUTE": true,
	"DAY_MICROSECOND": true, "DAY_SECOND": true, "DAY_MINUTE": true, "DAY_HOUR": true, "YEAR_MONTH": true,
	"MILLISECOND": true,
}

// niladicFuncs may be written without parentheses.
var niladicFuncs = map[string]bool{
	"CURRENT_TIMESTAMP": true, "CURRENT_DATE": true, "CURRENT_TIME": true, "CURRENT_USER": true,
	"LOCALTIME": true, "LOCALTIMESTAMP": true, "UTC_TIMESTAMP": true, "UTC_DATE": true, "UTC_TIME": true,
}

// aggTypes are the aggregation types of AGGREGATE KEY value columns.
var aggTypes = map[string]bool{
	"SUM": true, "MAX": true, "MIN": true, "REPLACE": true, "REPLACE_IF_NOT_NULL": true,
	"HLL_UNION": true, "BITMAP_UNION": true, "QUANTILE_UNION": true, "GENERIC": true,
}
