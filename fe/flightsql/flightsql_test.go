package flightsql

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	afs "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

func TestAuthenticate(t *testing.T) {
	env := newTestEnv(t, Config{})

	// A good password gets a token that works.
	cl, ctx := env.login(t, "alice", "secret")
	rows := 0
	fetch(t, cl, ctx, "SELECT 1", func(r arrow.RecordBatch) { rows += int(r.NumRows()) })
	require.Equal(t, 1, rows)

	// A wrong password, an unknown user: refused with the reason.
	_, err := env.client(t).Client.AuthenticateBasicToken(context.Background(), "alice", "wrong")
	st := requireCode(t, err, codes.Unauthenticated)
	require.Contains(t, st.Message(), "Access denied for user 'alice'")
	_, err = env.client(t).Client.AuthenticateBasicToken(context.Background(), "mallory", "")
	requireCode(t, err, codes.Unauthenticated)

	// No token, a made-up token, no credentials on the handshake.
	_, err = env.client(t).Execute(context.Background(), "SELECT 1")
	requireCode(t, err, codes.Unauthenticated)
	bad := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer 0123456789abcdef")
	_, err = env.client(t).Execute(bad, "SELECT 1")
	requireCode(t, err, codes.Unauthenticated)
	hs, err := env.client(t).Client.Handshake(context.Background())
	require.NoError(t, err)
	_, err = hs.Recv()
	requireCode(t, err, codes.Unauthenticated)

	// Closing the session makes its token stop working.
	_, err = cl.CloseSession(ctx, &flight.CloseSessionRequest{})
	require.NoError(t, err)
	_, err = cl.Execute(ctx, "SELECT 1")
	requireCode(t, err, codes.Unauthenticated)
}

// Sessions keep their database and variables; their connection ids lie in
// the Flight SQL range.
func TestSessionState(t *testing.T) {
	env := newTestEnv(t, Config{})
	cl, ctx := env.login(t, "root", "")
	exec(t, cl, ctx,
		"CREATE DATABASE d1",
		"CREATE TABLE d1.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
		"INSERT INTO d1.t VALUES (7)",
		"USE d1")
	got := strings.Join(column(t, cl, ctx, "SELECT k FROM t"), ",")
	require.Equal(t, "7", got, "USE applies to later statements")

	id, err := strconv.ParseUint(column(t, cl, ctx, "SELECT CONNECTION_ID()")[0], 10, 32)
	require.NoError(t, err)
	require.GreaterOrEqual(t, uint32(id), FirstConnID)

	// A second session starts without a database; the database header
	// and the schema session option select one.
	cl2, ctx2 := env.login(t, "root", "")
	_, err = cl2.Execute(ctx2, "SELECT k FROM t")
	st := requireCode(t, err, codes.InvalidArgument)
	require.Contains(t, st.Message(), "No database selected")
	opts, err := flight.NewSessionOptionValues(map[string]any{"catalog": "internal", "schema": "d1"})
	require.NoError(t, err)
	res, err := cl2.SetSessionOptions(ctx2, &flight.SetSessionOptionsRequest{SessionOptions: opts})
	require.NoError(t, err)
	require.Empty(t, res.Errors)
	require.Equal(t, []string{"7"}, column(t, cl2, ctx2, "SELECT k FROM t"))
	got2, err := cl2.GetSessionOptions(ctx2, &flight.GetSessionOptionsRequest{})
	require.NoError(t, err)
	require.Equal(t, "d1", got2.SessionOptions["schema"].GetStringValue())

	bad, err := flight.NewSessionOptionValues(map[string]any{"schema": "nope"})
	require.NoError(t, err)
	res, err = cl2.SetSessionOptions(ctx2, &flight.SetSessionOptionsRequest{SessionOptions: bad})
	require.NoError(t, err)
	require.Contains(t, res.Errors, "schema")

	cl3 := env.client(t)
	hctx := metadata.AppendToOutgoingContext(context.Background(), dbHeader, "d1")
	ctx3, err := cl3.Client.AuthenticateBasicToken(hctx, "root", "")
	require.NoError(t, err)
	require.Equal(t, []string{"7"}, column(t, cl3, ctx3, "SELECT k FROM t"))
}

// column returns the first column of a query's rows as text.
func column(t *testing.T, cl *afs.Client, ctx context.Context, q string) []string {
	t.Helper()
	var out []string
	fetch(t, cl, ctx, q, func(r arrow.RecordBatch) {
		for i := 0; i < int(r.NumRows()); i++ {
			out = append(out, cellText(r.Column(0), i))
		}
	})
	return out
}

// allTypes is a table with a column of every type, NULLs in every
// nullable column of some rows.
var allTypes = []string{
	"CREATE DATABASE d",
	`CREATE TABLE d.t (k BIGINT NOT NULL, b BOOLEAN, ti TINYINT, si SMALLINT, i INT, li LARGEINT,
		f FLOAT, d DOUBLE, dec DECIMAL(12, 3), dt DATE, ts DATETIME, ts3 DATETIME(3),
		c CHAR(4), vc VARCHAR(32), s STRING)
		DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 3`,
}

const allTypesRows = `INSERT INTO d.t VALUES
	(1, 1, -8, 300, -70000, 170141183460469231731687303715884105727, 1.5, -2.25, 123456789.125, '2024-02-29', '2024-02-29 13:14:15', '2024-02-29 13:14:15.678', 'ab', 'hello', 'a longer string'),
	(2, 0, 127, -32768, 2147483647, -170141183460469231731687303715884105727, -0.1, 1e300, -0.001, '1970-01-01', '1970-01-01 00:00:00', '1999-12-31 23:59:59.999', 'abcd', '', 'x'),
	(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(4, 1, 0, 0, 0, 0, 0, 0, 0, '9999-12-31', '9999-12-31 23:59:59', '2000-01-01 00:00:00.001', 'z', 'ünïcödé', 'tab	and ''quote'''),
	(5, NULL, 1, NULL, 2, NULL, 3.25, NULL, 4.5, NULL, '2001-02-03 04:05:06', NULL, 'q', NULL, 's'),
	(6, 0, -1, -1, -1, -1, -1.75, -1, -1, '2000-06-15', NULL, '2000-06-15 12:00:00.5', NULL, 'v', NULL),
	(7, 1, 7, 7, 7, 7, 7, 7, 7.007, '2007-07-07', '2007-07-07 07:07:07', '2007-07-07 07:07:07.007', 'sev', 'seven', 'seven'),
	(8, NULL, NULL, NULL, NULL, 8, NULL, 8e-10, NULL, NULL, NULL, NULL, NULL, NULL, '')`

// A query's batches carry every type and NULL, and the same values the
// MySQL protocol sends.
func TestQueryMatchesMySQL(t *testing.T) {
	env := newTestEnv(t, Config{})
	cl, ctx := env.login(t, "root", "")
	exec(t, cl, ctx, allTypes...)
	n, err := cl.ExecuteUpdate(ctx, allTypesRows)
	require.NoError(t, err)
	require.Equal(t, int64(8), n, "affected rows of INSERT")
	// Double the table until the result spans several batches.
	rows := int64(8)
	for rows < 40000 {
		n, err := cl.ExecuteUpdate(ctx, fmt.Sprintf(`INSERT INTO d.t SELECT k + %d, b, ti, si, i, li, f, d, dec, dt, ts, ts3, c, vc, s FROM d.t`, rows))
		require.NoError(t, err)
		require.Equal(t, rows, n)
		rows *= 2
	}

	my := env.mysql(t, "")
	for _, q := range []string{
		"SELECT * FROM d.t ORDER BY k",
		"SELECT * FROM d.t WHERE k % 3 = 1 ORDER BY k",
		"SELECT k, s, c FROM d.t WHERE i IS NULL ORDER BY k",
	} {
		t.Run(q, func(t *testing.T) {
			var got [][]string
			batches := 0
			schema := fetch(t, cl, ctx, q, func(r arrow.RecordBatch) {
				batches++
				for i := 0; i < int(r.NumRows()); i++ {
					row := make([]string, r.NumCols())
					for j := range row {
						row[j] = cellText(r.Column(j), i)
					}
					got = append(got, row)
				}
			})
			want := mysqlRows(t, my, q, schema)
			require.Equal(t, len(want), len(got))
			for i := range want {
				require.Equal(t, want[i], got[i], "row %d", i)
			}
			if strings.Contains(q, "SELECT *") {
				require.Greater(t, batches, 1, "a result of %d rows in one batch", len(got))
				require.Equal(t, "k", schema.Field(0).Name)
				require.Equal(t, arrow.BinaryTypes.String, schema.Field(14).Type)
				fmd := schema.Field(8).Metadata
				md := afs.ColumnMetadata{Data: &fmd}
				tn, _ := md.TypeName()
				require.Equal(t, "DECIMAL(12, 3)", tn)
			}
		})
	}
}

// cellText renders an Arrow value as the MySQL text protocol does, up to
// float and datetime spelling, which mysqlRows normalizes.
func cellText(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	switch a := a.(type) {
	case *array.Boolean:
		if a.Value(i) {
			return "1"
		}
		return "0"
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'g', -1, 32)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	case *array.Date32:
		return a.Value(i).ToTime().Format(time.DateOnly)
	case *array.Timestamp:
		return a.Value(i).ToTime(arrow.Microsecond).UTC().Format("2006-01-02 15:04:05.999999")
	case *array.Binary:
		return string(a.Value(i))
	case *array.Decimal128:
		return decimalText(a.Value(i).BigInt(), int(a.DataType().(*arrow.Decimal128Type).Scale))
	}
	return a.ValueStr(i)
}

// decimalText spells an unscaled decimal with scale digits after the
// point, as MySQL does.
func decimalText(n *big.Int, scale int) string {
	neg := n.Sign() < 0
	digits := new(big.Int).Abs(n).String()
	if scale > 0 {
		for len(digits) <= scale {
			digits = "0" + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// mysqlRows runs q over the MySQL protocol and returns its rows as text,
// floats and datetimes respelled as cellText spells them.
func mysqlRows(t *testing.T, db interface {
	Query(string, ...any) (*sql.Rows, error)
}, q string, schema *arrow.Schema) [][]string {
	t.Helper()
	rs, err := db.Query(q)
	require.NoError(t, err)
	defer rs.Close()
	cols, err := rs.Columns()
	require.NoError(t, err)
	require.Equal(t, schema.NumFields(), len(cols))
	var out [][]string
	for rs.Next() {
		vals := make([]*string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rs.Scan(ptrs...))
		row := make([]string, len(cols))
		for i, v := range vals {
			if v == nil {
				row[i] = "NULL"
				continue
			}
			row[i] = *v
			switch schema.Field(i).Type.ID() {
			case arrow.FLOAT32, arrow.FLOAT64:
				bits := 64
				if schema.Field(i).Type.ID() == arrow.FLOAT32 {
					bits = 32
				}
				f, err := strconv.ParseFloat(*v, bits)
				require.NoError(t, err)
				row[i] = strconv.FormatFloat(f, 'g', -1, bits)
			case arrow.TIMESTAMP:
				ts, err := time.Parse("2006-01-02 15:04:05.999999", *v)
				require.NoError(t, err)
				row[i] = ts.Format("2006-01-02 15:04:05.999999")
			}
		}
		out = append(out, row)
	}
	require.NoError(t, rs.Err())
	return out
}

func TestMetadata(t *testing.T) {
	env := newTestEnv(t, Config{})
	cl, ctx := env.login(t, "root", "")
	exec(t, cl, ctx, allTypes...)
	exec(t, cl, ctx, "CREATE TABLE d.other (a INT, b VARCHAR(10)) DUPLICATE KEY(a) DISTRIBUTED BY HASH(a) BUCKETS 1")

	catalogs := metadataRows(t, cl, ctx, func() (*flight.FlightInfo, error) { return cl.GetCatalogs(ctx) })
	require.Equal(t, [][]string{{"internal"}}, catalogs)

	pattern := "d%"
	schemas := metadataRows(t, cl, ctx, func() (*flight.FlightInfo, error) {
		return cl.GetDBSchemas(ctx, &afs.GetDBSchemasOpts{DbSchemaFilterPattern: &pattern})
	})
	require.Equal(t, [][]string{{"internal", "d"}}, schemas)
	all := metadataRows(t, cl, ctx, func() (*flight.FlightInfo, error) { return cl.GetDBSchemas(ctx, &afs.GetDBSchemasOpts{}) })
	require.Contains(t, all, []string{"internal", "information_schema"})

	other := "hive"
	none := metadataRows(t, cl, ctx, func() (*flight.FlightInfo, error) {
		return cl.GetDBSchemas(ctx, &afs.GetDBSchemasOpts{Catalog: &other})
	})
	require.Empty(t, none)

	db := "d"
	info, err := cl.GetTables(ctx, &afs.GetTablesOpts{DbSchemaFilterPattern: &db, IncludeSchema: true, TableTypes: []string{"TABLE"}})
	require.NoError(t, err)
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	defer rdr.Release()
	var names []string
	for rdr.Next() {
		r := rdr.RecordBatch()
		for i := 0; i < int(r.NumRows()); i++ {
			names = append(names, r.Column(1).ValueStr(i)+"."+r.Column(2).ValueStr(i)+":"+r.Column(3).ValueStr(i))
			ts, err := flight.DeserializeSchema(r.Column(4).(*array.Binary).Value(i), nil)
			require.NoError(t, err)
			if r.Column(2).ValueStr(i) == "t" {
				require.Equal(t, 15, ts.NumFields())
				require.Equal(t, arrow.PrimitiveTypes.Int64, ts.Field(0).Type)
				require.True(t, arrow.TypeEqual(&arrow.Decimal128Type{Precision: 12, Scale: 3}, ts.Field(8).Type))
			} else {
				require.Equal(t, []string{"a", "b"}, []string{ts.Field(0).Name, ts.Field(1).Name})
			}
		}
	}
	require.NoError(t, rdr.Err())
	require.Equal(t, []string{"d.other:TABLE", "d.t:TABLE"}, names)

	tpat := "ta%"
	sys := metadataRows(t, cl, ctx, func() (*flight.FlightInfo, error) {
		return cl.GetTables(ctx, &afs.GetTablesOpts{TableNameFilterPattern: &tpat})
	})
	require.Contains(t, sys, []string{"internal", "information_schema", "tables", "SYSTEM TABLE"})

	types := metadataRows(t, cl, ctx, func() (*flight.FlightInfo, error) { return cl.GetTableTypes(ctx) })
	require.Equal(t, [][]string{{"SYSTEM TABLE"}, {"TABLE"}, {"VIEW"}}, types)

	info, err = cl.GetSqlInfo(ctx, []afs.SqlInfo{afs.SqlInfoFlightSqlServerName})
	require.NoError(t, err)
	rdr2, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	defer rdr2.Release()
	require.True(t, rdr2.Next())
	require.Contains(t, rdr2.RecordBatch().Column(1).ValueStr(0), "Strata")
}

// metadataRows runs a metadata command and returns its rows as text.
func metadataRows(t *testing.T, cl *afs.Client, ctx context.Context, get func() (*flight.FlightInfo, error)) [][]string {
	t.Helper()
	info, err := get()
	require.NoError(t, err)
	var out [][]string
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(ctx, ep.Ticket)
		require.NoError(t, err)
		for rdr.Next() {
			r := rdr.RecordBatch()
			for i := 0; i < int(r.NumRows()); i++ {
				row := make([]string, r.NumCols())
				for j := range row {
					row[j] = r.Column(j).ValueStr(i)
				}
				out = append(out, row)
			}
		}
		require.NoError(t, rdr.Err())
		rdr.Release()
	}
	return out
}

func TestSQLErrors(t *testing.T) {
	env := newTestEnv(t, Config{})
	cl, ctx := env.login(t, "root", "")
	_, err := cl.Execute(ctx, "SELEKT 1")
	st := requireCode(t, err, codes.InvalidArgument)
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if x, ok := d.(*errdetails.ErrorInfo); ok {
			info = x
		}
	}
	require.NotNil(t, info, "no ErrorInfo detail")
	require.Equal(t, "1064", info.Metadata["errno"])
	require.Equal(t, "42000", info.Metadata["sqlstate"])

	_, err = cl.Execute(ctx, "SELECT * FROM nodb.nosuch")
	st = requireCode(t, err, codes.InvalidArgument)
	require.Contains(t, st.Message(), "nodb")

	_, err = cl.ExecuteUpdate(ctx, "CREATE TABLE x.y (")
	requireCode(t, err, codes.InvalidArgument)

	// A query sent as an update is refused; the session still works.
	_, err = cl.ExecuteUpdate(ctx, "SELECT 1")
	requireCode(t, err, codes.InvalidArgument)
	require.Equal(t, []string{"2"}, column(t, cl, ctx, "SELECT 1 + 1"))
}

func TestPreparedStatements(t *testing.T) {
	env := newTestEnv(t, Config{})
	cl, ctx := env.login(t, "root", "")
	exec(t, cl, ctx, allTypes...)
	exec(t, cl, ctx, allTypesRows)

	ps, err := cl.Prepare(ctx, "SELECT k, vc FROM d.t WHERE k > ? ORDER BY k")
	require.NoError(t, err)
	require.Equal(t, 2, ps.DatasetSchema().NumFields())
	require.Equal(t, 1, ps.ParameterSchema().NumFields())
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.Append(6)
	param := b.NewArray()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "p", Type: arrow.PrimitiveTypes.Int64}}, nil), []arrow.Array{param}, 1)
	ps.SetParameters(rec)
	info, err := ps.Execute(ctx)
	require.NoError(t, err)
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	var ks []string
	for rdr.Next() {
		r := rdr.RecordBatch()
		for i := 0; i < int(r.NumRows()); i++ {
			ks = append(ks, r.Column(0).ValueStr(i))
		}
	}
	require.NoError(t, rdr.Err())
	rdr.Release()
	require.Equal(t, []string{"7", "8"}, ks)
	require.NoError(t, ps.Close(ctx))
	rec.Release()
	param.Release()

	up, err := cl.Prepare(ctx, "INSERT INTO d.t (k, s) VALUES (100, 'prepared')")
	require.NoError(t, err)
	n, err := up.ExecuteUpdate(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	require.NoError(t, up.Close(ctx))
	require.Equal(t, []string{"prepared"}, column(t, cl, ctx, "SELECT s FROM d.t WHERE k = 100"))
}

// A large result streams: the server holds a batch at a time, not the
// result.
func TestLargeResultStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a million rows")
	}
	env := newTestEnv(t, Config{})
	cl, ctx := env.login(t, "root", "")
	exec(t, cl, ctx, "CREATE DATABASE big",
		"CREATE TABLE big.t (k BIGINT, v VARCHAR(64)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4")
	var vals []string
	for i := range 1000 {
		vals = append(vals, fmt.Sprintf("(%d, 'a value of some forty bytes, row %06d')", i, i))
	}
	exec(t, cl, ctx, "INSERT INTO big.t VALUES "+strings.Join(vals, ","))
	const want = 1000 << 10
	for rows := 1000; rows < want; rows *= 2 {
		exec(t, cl, ctx, fmt.Sprintf("INSERT INTO big.t SELECT k + %d, v FROM big.t", rows))
	}

	heap := func() int64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	base := heap()
	var got, bytes, peak int64
	fetch(t, cl, ctx, "SELECT k, v FROM big.t", func(r arrow.RecordBatch) {
		got += r.NumRows()
		for _, c := range r.Columns() {
			for _, b := range c.Data().Buffers() {
				if b != nil {
					bytes += int64(b.Len())
				}
			}
		}
		if got%(want/8) < r.NumRows() {
			peak = max(peak, heap()-base)
		}
	})
	require.Equal(t, int64(want), got)
	t.Logf("result: %d rows, %d MB of Arrow buffers; heap above the start mid-stream: %d MB", got, bytes>>20, peak>>20)
	require.Less(t, peak, bytes/4, "the server seems to hold the result")
}
