package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

// schemaData is the data of a _schema reply (Doris's TableSchemaAction);
// the field order is the wire order.
type schemaData struct {
	Status        int            `json:"status"`
	KeysType      string         `json:"keysType"`
	SchemaVersion int64          `json:"schema_version"`
	Properties    []schemaColumn `json:"properties"`
}

// schemaColumn is one column of a _schema reply. Doris sends every value as
// a string, precision and scale for decimals only.
type schemaColumn struct {
	Name            string `json:"name"`
	Type            string `json:"type"`
	Comment         string `json:"comment"`
	AggregationType string `json:"aggregation_type"`
	Precision       string `json:"precision,omitempty"`
	Scale           string `json:"scale,omitempty"`
	IsNullable      string `json:"is_nullable"`
	IsKey           string `json:"is_key"`
	ColumnUID       string `json:"column_uid"`
}

// schema serves GET /api/[{catalog}/]{db}/{table}/_schema.
func (a *API) schema(w http.ResponseWriter, catalogName, dbName, tableName string) {
	if !isInternalCatalog(catalogName) {
		replyError(w, analysisError("Unknown catalog '%s'", catalogName))
		return
	}
	t, msg := a.lookupTable(dbName, tableName)
	if t == nil {
		replyError(w, msg)
		return
	}
	replyOK(w, tableSchema(t))
}

// lookupTable finds a table of the internal catalog; on failure it returns
// nil and Doris's message.
func (a *API) lookupTable(dbName, tableName string) (*catalog.Table, string) {
	dbName = fullDBName(dbName)
	t, err := a.cfg.Catalog.Snapshot().Table(dbName, tableName)
	switch {
	case errors.Is(err, catalog.ErrDBNotFound):
		return nil, metaNotFound("unknown databases, dbName=%s", dbName)
	case errors.Is(err, catalog.ErrTableNotFound):
		return nil, metaNotFound("unknown table, tableName=%s", tableName)
	case err != nil:
		return nil, err.Error()
	}
	return t, ""
}

func tableSchema(t *catalog.Table) schemaData {
	cols := t.Schema.Columns
	props := make([]schemaColumn, len(cols))
	for i := range cols {
		c := &cols[i]
		p := schemaColumn{
			Name:            c.Name,
			Type:            dorisTypeName(c.Type),
			Comment:         c.Comment,
			AggregationType: aggregationType(t, c),
			IsNullable:      yesNo(c.Nullable),
			IsKey:           yesNo(c.IsKey),
			ColumnUID:       strconv.FormatUint(uint64(c.ID), 10),
		}
		if c.Type.Kind == types.KindDecimal {
			p.Precision = strconv.Itoa(c.Type.Precision)
			p.Scale = strconv.Itoa(c.Type.Scale)
		}
		props[i] = p
	}
	return schemaData{Status: http.StatusOK, KeysType: t.KeysType.RESTName(), SchemaVersion: t.Schema.Version, Properties: props}
}

// dorisTypeName is the name Doris's PrimitiveType gives the column type. A
// Doris 2.x table stores DATE, DATETIME and DECIMAL as their V2/V3 forms,
// and a V3 decimal is named after the integer that holds it.
func dorisTypeName(t types.Type) string {
	switch t.Kind {
	case types.KindDate:
		return "DATEV2"
	case types.KindDateTime:
		return "DATETIMEV2"
	case types.KindDecimal:
		switch {
		case t.Precision <= 9:
			return "DECIMAL32"
		case t.Precision <= 18:
			return "DECIMAL64"
		default:
			return "DECIMAL128"
		}
	}
	return t.Kind.String()
}

// aggregationType is Doris's aggregation of a column: none ("") for keys,
// the declared function in an AGGREGATE table, REPLACE for the values of a
// merge-on-read UNIQUE table and NONE for all other values.
func aggregationType(t *catalog.Table, c *catalog.Column) string {
	switch {
	case c.IsKey:
		return ""
	case c.AggType != "":
		return strings.ToUpper(c.AggType)
	case t.KeysType == catalog.UniqueKeys && strings.EqualFold(t.Properties["enable_unique_key_merge_on_write"], "false"):
		return "REPLACE"
	}
	return "NONE"
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// lightSchemaChangeRequest is the body of enable_light_schema_change.
type lightSchemaChangeRequest struct {
	IsDropColumn bool
	ColumnName   string
}

// parseLightSchemaChange decodes {"isDropColumn":bool,"columnName":"c"}
// the way Doris's Gson does: keys are case-sensitive, both are optional, a
// boolean may come as a string ("true" in any case is true), a name may come
// as a number or boolean.
func parseLightSchemaChange(body []byte) (lightSchemaChangeRequest, error) {
	var req lightSchemaChangeRequest
	fields, err := decodeObject(body)
	if err != nil {
		return req, err
	}
	if req.IsDropColumn, err = jsonBool(fields["isDropColumn"]); err != nil {
		return req, fmt.Errorf("isDropColumn: %w", err)
	}
	if req.ColumnName, err = jsonString(fields["columnName"]); err != nil {
		return req, fmt.Errorf("columnName: %w", err)
	}
	return req, nil
}

// lightSchemaChange serves GET /api/enable_light_schema_change/{db}/{table}:
// may an ADD or DROP COLUMN run as a metadata-only change? The checks run
// in Doris's order: the table, its light_schema_change property, then the
// body.
func (a *API) lightSchemaChange(w http.ResponseWriter, r *http.Request, dbName, tableName string) {
	body, err := readBody(r)
	if err != nil {
		replyBadRequest(w, err.Error())
		return
	}
	t, msg := a.lookupTable(dbName, tableName)
	if t == nil {
		replyError(w, msg)
		return
	}
	if strings.EqualFold(t.Properties["light_schema_change"], "false") {
		replyError(w, fmt.Sprintf("table %s disable light schema change", tableName))
		return
	}
	req, err := parseLightSchemaChange(body)
	if err != nil {
		replyBadRequest(w, "Invalid request body: "+err.Error())
		return
	}
	if req.IsDropColumn {
		if _, c := t.Schema.ColumnByName(req.ColumnName); c != nil && c.IsKey {
			replyError(w, fmt.Sprintf("Column %s is primary key in materializedIndex that can't do the light schema change", req.ColumnName))
			return
		}
	}
	replyOK(w, nil)
}

// errEmptyBody is a request body with nothing in it.
var errEmptyBody = errors.New("missing request body")

// decodeObject decodes a JSON object into its members, the last of
// duplicate keys winning.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errEmptyBody
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, err
	}
	if fields == nil { // the body was null
		return nil, errEmptyBody
	}
	return fields, nil
}

// jsonBool reads an optional boolean member: absent or null is false, a
// string is true when it says "true" in any case.
func jsonBool(raw json.RawMessage) (bool, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return false, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, err
	}
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		return strings.EqualFold(v, "true"), nil
	}
	return false, fmt.Errorf("expected a boolean, got %s", raw)
}

// jsonString reads an optional string member: absent or null is "", a
// number or boolean is its JSON text.
func jsonString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", fmt.Errorf("expected a string, got %s", raw)
}
