package flightsql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	afs "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/types"
)

// The metadata commands run at DoGet: their ticket is the command itself.
// They read information_schema through the caller's session, so a user
// sees the databases and tables SHOW and information_schema show them.

// Table types, as JDBC names them.
const (
	typeTable       = "TABLE"
	typeView        = "VIEW"
	typeSystemTable = "SYSTEM TABLE"
)

func (s *Server) metadataInfo(schema *arrow.Schema, desc *flight.FlightDescriptor) *flight.FlightInfo {
	return &flight.FlightInfo{
		Schema:           flight.SerializeSchema(schema, s.alloc),
		FlightDescriptor: desc,
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: desc.GetCmd()}}},
		TotalRecords:     -1,
		TotalBytes:       -1,
	}
}

// oneBatch is a stream of one record batch.
func oneBatch(rec arrow.RecordBatch) <-chan flight.StreamChunk {
	ch := make(chan flight.StreamChunk, 1)
	ch <- flight.StreamChunk{Data: rec}
	close(ch)
	return ch
}

// sqlRows runs a query on the caller's session and returns its rows as
// text ("" for NULL).
func (s *Server) sqlRows(ctx context.Context, c *client, text string) ([][]string, error) {
	res, cancel, err := s.query(ctx, c, text)
	if err != nil {
		return nil, err
	}
	defer cancel()
	if res.Rows == nil {
		return nil, nil
	}
	defer res.Rows.Close()
	var out [][]string
	for {
		cols, sel, err := res.Rows.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, toStatus(err)
		}
		row := func(i int) {
			r := make([]string, len(cols))
			for j, a := range cols {
				if !a.IsNull(i) {
					r[j] = a.ValueStr(i)
				}
			}
			out = append(out, r)
		}
		if sel != nil {
			for _, i := range sel {
				row(int(i))
			}
		} else if len(cols) > 0 {
			for i := 0; i < cols[0].Len(); i++ {
				row(i)
			}
		}
	}
}

// catalogMatches reports whether a command's catalog filter admits the
// one catalog; nil and "" admit it.
func catalogMatches(catalog *string) bool {
	return catalog == nil || *catalog == "" || strings.EqualFold(*catalog, internalCatalog)
}

// GetFlightInfoCatalogs describes the catalogs.
func (s *Server) GetFlightInfoCatalogs(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metadataInfo(schema_ref.Catalogs, desc), nil
}

// DoGetCatalogs lists the one catalog, "internal".
func (s *Server) DoGetCatalogs(context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(s.alloc, schema_ref.Catalogs)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).Append(internalCatalog)
	return schema_ref.Catalogs, oneBatch(b.NewRecordBatch()), nil
}

// GetFlightInfoSchemas describes the databases.
func (s *Server) GetFlightInfoSchemas(_ context.Context, _ afs.GetDBSchemas, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metadataInfo(schema_ref.DBSchemas, desc), nil
}

// DoGetDBSchemas lists the databases the session sees.
func (s *Server) DoGetDBSchemas(ctx context.Context, cmd afs.GetDBSchemas) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	if catalogMatches(cmd.GetCatalog()) {
		rows, err := s.sqlRows(ctx, c, "SELECT SCHEMA_NAME FROM information_schema.schemata")
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rows {
			if likeFilter(cmd.GetDBSchemaFilterPattern(), r[0]) {
				names = append(names, r[0])
			}
		}
	}
	sort.Strings(names)
	b := array.NewRecordBuilder(s.alloc, schema_ref.DBSchemas)
	defer b.Release()
	for _, n := range names {
		b.Field(0).(*array.StringBuilder).Append(internalCatalog)
		b.Field(1).(*array.StringBuilder).Append(n)
	}
	return schema_ref.DBSchemas, oneBatch(b.NewRecordBatch()), nil
}

// GetFlightInfoTables describes the tables.
func (s *Server) GetFlightInfoTables(_ context.Context, cmd afs.GetTables, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	schema := schema_ref.Tables
	if cmd.GetIncludeSchema() {
		schema = schema_ref.TablesWithIncludedSchema
	}
	return s.metadataInfo(schema, desc), nil
}

type tableRow struct{ db, name, typ string }

// DoGetTables lists the tables the session sees, with their Arrow schema
// (the schema of SELECT * from them) if asked.
func (s *Server) DoGetTables(ctx context.Context, cmd afs.GetTables) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, nil, err
	}
	var tables []tableRow
	if catalogMatches(cmd.GetCatalog()) {
		rows, err := s.sqlRows(ctx, c, "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.tables")
		if err != nil {
			return nil, nil, err
		}
		types := cmd.GetTableTypes()
		for _, r := range rows {
			t := tableRow{db: r[0], name: r[1], typ: tableType(r[2])}
			if !likeFilter(cmd.GetDBSchemaFilterPattern(), t.db) || !likeFilter(cmd.GetTableNameFilterPattern(), t.name) {
				continue
			}
			if len(types) > 0 && !containsFold(types, t.typ) {
				continue
			}
			tables = append(tables, t)
		}
	}
	sort.Slice(tables, func(i, j int) bool {
		if tables[i].db != tables[j].db {
			return tables[i].db < tables[j].db
		}
		return tables[i].name < tables[j].name
	})
	schema := schema_ref.Tables
	if cmd.GetIncludeSchema() {
		schema = schema_ref.TablesWithIncludedSchema
	}
	var schemas [][]byte
	if cmd.GetIncludeSchema() {
		kept := tables[:0]
		for _, t := range tables {
			ts, err := s.tableSchema(ctx, c, t.db, t.name)
			if err != nil {
				return nil, nil, err
			}
			if ts == nil {
				continue // gone, or not the caller's to see, since it was listed
			}
			kept = append(kept, t)
			schemas = append(schemas, flight.SerializeSchema(ts, s.alloc))
		}
		tables = kept
	}
	b := array.NewRecordBuilder(s.alloc, schema)
	defer b.Release()
	for i, t := range tables {
		b.Field(0).(*array.StringBuilder).Append(internalCatalog)
		b.Field(1).(*array.StringBuilder).Append(t.db)
		b.Field(2).(*array.StringBuilder).Append(t.name)
		b.Field(3).(*array.StringBuilder).Append(t.typ)
		if schemas != nil {
			b.Field(4).(*array.BinaryBuilder).Append(schemas[i])
		}
	}
	return schema, oneBatch(b.NewRecordBatch()), nil
}

// tableSchema is the Arrow schema of a table's columns, SELECT *'s, built
// from the catalog as DESC shows them: it needs only a privilege that
// lets the caller see the table (a user allowed to load into a table but
// not to read it still gets its schema). It is nil for a table DESC does
// not find or the caller may not see.
func (s *Server) tableSchema(ctx context.Context, c *client, db, table string) (*arrow.Schema, error) {
	rows, err := s.sqlRows(ctx, c, "DESC "+quoteIdent(db)+"."+quoteIdent(table))
	if err != nil {
		if st, ok := status.FromError(err); ok && st.Code() == codes.PermissionDenied {
			return nil, nil
		}
		switch sqlErrno(err) {
		case mysqlproto.ER_NO_SUCH_TABLE, mysqlproto.ER_BAD_TABLE_ERROR, mysqlproto.ER_UNKNOWN_TABLE, mysqlproto.ER_BAD_DB_ERROR:
			return nil, nil
		}
		return nil, err
	}
	fields := make([]mysqlproto.Field, 0, len(rows))
	for _, r := range rows {
		if len(r) < 3 {
			return nil, status.Errorf(codes.Internal, "DESC %s.%s: a row of %d columns", db, table, len(r))
		}
		t, err := parseColumnType(r[1])
		if err != nil {
			return nil, status.Errorf(codes.Internal, "DESC %s.%s: column %s: %v", db, table, r[0], err)
		}
		fields = append(fields, mysqlproto.Field{Name: r[0], OrgName: r[0], Table: table, OrgTable: table, Schema: db,
			Type: t, Nullable: strings.EqualFold(r[2], "Yes")})
	}
	return schemaOf(fields), nil
}

// parseColumnType reads a column type as DESC writes it (types.Type's
// String, e.g. DECIMAL(12, 3)).
func parseColumnType(text string) (types.Type, error) {
	e, err := sql.ParseExpr("CAST(NULL AS " + text + ")")
	if err != nil {
		return types.Type{}, err
	}
	ce, ok := e.(*sql.CastExpr)
	if !ok || ce.Type == nil {
		return types.Type{}, fmt.Errorf("type %q does not parse", text)
	}
	return ce.Type.Resolve()
}

// sqlErrno is the MySQL error number a status carries (0: none).
func sqlErrno(err error) uint16 {
	st, ok := status.FromError(err)
	if !ok {
		return 0
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.Domain == mysqlErrorDomain {
			n, _ := strconv.ParseUint(info.Metadata["errno"], 10, 16)
			return uint16(n)
		}
	}
	return 0
}

// quoteIdent quotes a MySQL identifier.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// tableType maps information_schema's TABLE_TYPE to JDBC's names.
func tableType(t string) string {
	switch strings.ToUpper(t) {
	case "BASE TABLE":
		return typeTable
	case "VIEW":
		return typeView
	case "SYSTEM VIEW", "SYSTEM TABLE":
		return typeSystemTable
	}
	return t
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// GetFlightInfoTableTypes describes the table types.
func (s *Server) GetFlightInfoTableTypes(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metadataInfo(schema_ref.TableTypes, desc), nil
}

// DoGetTableTypes lists the table types.
func (s *Server) DoGetTableTypes(context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(s.alloc, schema_ref.TableTypes)
	defer b.Release()
	for _, t := range []string{typeSystemTable, typeTable, typeView} {
		b.Field(0).(*array.StringBuilder).Append(t)
	}
	return schema_ref.TableTypes, oneBatch(b.NewRecordBatch()), nil
}

// likeFilter matches s against a Flight SQL filter pattern (SQL LIKE: %
// any run, _ one character, \ escapes; case-insensitive); nil admits all.
func likeFilter(pattern *string, s string) bool {
	if pattern == nil {
		return true
	}
	return sql.MatchLike(strings.ToLower(*pattern), strings.ToLower(s))
}

// Session options: "catalog" ("internal"; any other value is taken as a
// database, as MySQL users name databases catalogs), "schema" and
// "database" (the current database), and anything else a session
// variable, as SET name = value sets it.

// SetSessionOptions sets the current database and session variables.
func (s *Server) SetSessionOptions(ctx context.Context, req *flight.SetSessionOptionsRequest) (*flight.SetSessionOptionsResult, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, err
	}
	out := &flight.SetSessionOptionsResult{}
	fail := func(name string, v pb.SetSessionOptionsResult_ErrorValue) {
		if out.Errors == nil {
			out.Errors = map[string]*pb.SetSessionOptionsResult_Error{}
		}
		out.Errors[name] = &pb.SetSessionOptionsResult_Error{Value: v}
	}
	names := make([]string, 0, len(req.GetSessionOptions()))
	for n := range req.GetSessionOptions() {
		names = append(names, n)
	}
	sort.Strings(names) // catalog before schema
	for _, name := range names {
		v := req.GetSessionOptions()[name]
		switch strings.ToLower(name) {
		case "catalog":
			val := v.GetStringValue()
			if strings.EqualFold(val, internalCatalog) || val == "" {
				continue
			}
			if s.useDB(ctx, c, val) != nil {
				fail(name, flight.SetSessionOptionsResultErrorInvalidValue)
			}
		case "schema", "database":
			if s.useDB(ctx, c, v.GetStringValue()) != nil {
				fail(name, flight.SetSessionOptionsResultErrorInvalidValue)
			}
		default:
			lit, ok := optionLiteral(v)
			if !ok || !isVariableName(name) {
				fail(name, flight.SetSessionOptionsResultErrorInvalidName)
				continue
			}
			if _, err := s.sqlRows(ctx, c, "SET "+name+" = "+lit); err != nil {
				fail(name, flight.SetSessionOptionsResultErrorInvalidValue)
			}
		}
	}
	return out, nil
}

func (s *Server) useDB(ctx context.Context, c *client, db string) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return c.sess.UseDB(ctx, db)
}

// optionLiteral renders a session option's value as a SQL literal.
func optionLiteral(v *flight.SessionOptionValue) (string, bool) {
	if v == nil {
		return "", false
	}
	switch x := v.GetOptionValue().(type) {
	case *pb.SessionOptionValue_StringValue:
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(x.StringValue) + "'", true
	case *pb.SessionOptionValue_BoolValue:
		return strconv.FormatBool(x.BoolValue), true
	case *pb.SessionOptionValue_Int64Value:
		return strconv.FormatInt(x.Int64Value, 10), true
	case *pb.SessionOptionValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64), true
	}
	return "", false
}

func isVariableName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// GetSessionOptions reports the catalog and the current database.
func (s *Server) GetSessionOptions(ctx context.Context, _ *flight.GetSessionOptionsRequest) (*flight.GetSessionOptionsResult, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.sqlRows(ctx, c, "SELECT DATABASE()")
	if err != nil {
		return nil, err
	}
	opts := map[string]any{"catalog": internalCatalog}
	if len(rows) == 1 && rows[0][0] != "" {
		opts["schema"] = rows[0][0]
	}
	vals, err := flight.NewSessionOptionValues(opts)
	if err != nil {
		return nil, status.Error(codes.Internal, fmt.Sprint(err))
	}
	return &flight.GetSessionOptionsResult{SessionOptions: vals}, nil
}

// CloseSession closes the caller's session; its token stops working.
func (s *Server) CloseSession(ctx context.Context, _ *flight.CloseSessionRequest) (*flight.CloseSessionResult, error) {
	c, err := clientFrom(ctx)
	if err != nil {
		return nil, err
	}
	s.dropClient(c)
	return &flight.CloseSessionResult{Status: flight.CloseSessionResultClosed}, nil
}
