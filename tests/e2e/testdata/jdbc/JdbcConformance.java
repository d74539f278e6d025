import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Drives a Strata server through a real JDBC driver (MariaDB Connector/J)
 * the way dashboards and ETL tools do: metadata browsing, prepared
 * statements of every type (client-side and server-side), batch inserts,
 * result types and NULLs, time zones and errors.
 *
 * Usage: java -cp mariadb-java-client.jar JdbcConformance.java HOST PORT
 *
 * Every check is counted; the program prints each failure and exits 1 if
 * any failed, else prints "checks passed: N".
 */
public class JdbcConformance {
    static int passed;
    static final List<String> failures = new ArrayList<>();
    static String base;

    static void check(boolean ok, String what) {
        if (ok) {
            passed++;
        } else {
            failures.add(what);
        }
    }

    static void equal(Object want, Object got, String what) {
        check(Objects.equals(want, got), what + ": want <" + want + "> got <" + got + ">");
    }

    interface Section {
        void run() throws SQLException;
    }

    /** section runs one group of checks; an exception fails it and the rest go on. */
    static void section(String name, Section s) {
        try {
            s.run();
        } catch (SQLException e) {
            failures.add(name + ": " + e.getMessage() + " (error " + e.getErrorCode() + ")");
        }
    }

    static Connection connect(String params) throws SQLException {
        return DriverManager.getConnection(base + params);
    }

    public static void main(String[] args) throws Exception {
        base = "jdbc:mariadb://" + args[0] + ":" + args[1] + "/";
        try (Connection c = connect("?user=root")) {
            setup(c);
            section("metadata", () -> metadata(c));
        }
        // Client-side statements with batches rewritten into one multi-row
        // INSERT, and server-side prepared statements (binary protocol).
        for (String mode : new String[] {"useServerPrepStmts=false&rewriteBatchedStatements=true", "useServerPrepStmts=true"}) {
            try (Connection c = connect("jdbc_db?user=root&" + mode)) {
                section(mode + " prepared", () -> preparedTypes(c, mode));
                section(mode + " batch", () -> batch(c, mode));
            }
        }
        try (Connection c = connect("jdbc_db?user=root")) {
            section("result metadata", () -> resultMetadata(c));
            section("time zones", () -> timeZones(c));
            section("errors", () -> errors(c));
        }
        try {
            DriverManager.getConnection(base + "?user=root&password=wrong").close();
            check(false, "a wrong password was accepted");
        } catch (SQLException e) {
            equal(1045, e.getErrorCode(), "wrong password error code");
        }
        for (String f : failures) {
            System.out.println("FAIL: " + f);
        }
        if (!failures.isEmpty()) {
            System.out.println("checks failed: " + failures.size() + " of " + (passed + failures.size()));
            System.exit(1);
        }
        System.out.println("checks passed: " + passed);
    }

    static void setup(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS jdbc_db");
            st.execute("CREATE DATABASE jdbc_db");
            st.execute("CREATE TABLE jdbc_db.all_types ("
                    + "k INT NOT NULL COMMENT 'the key', b BOOLEAN, ti TINYINT, si SMALLINT, bi BIGINT, li LARGEINT,"
                    + " f FLOAT, d DOUBLE, dc DECIMAL(18,4), dt DATE, ts DATETIME(3), c CHAR(4), vc VARCHAR(32), s STRING)"
                    + " UNIQUE KEY(k) COMMENT 'one of each' DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ('replication_num'='1')");
            st.execute("CREATE TABLE jdbc_db.events (id BIGINT NOT NULL, ts DATETIME NOT NULL, v INT)"
                    + " DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1");
            st.execute("CREATE VIEW jdbc_db.v_events AS SELECT id, v FROM jdbc_db.events");
        }
    }

    static void metadata(Connection c) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        check(md.getDatabaseProductVersion().startsWith("5.7.99"), "product version " + md.getDatabaseProductVersion());
        equal(5, md.getDatabaseMajorVersion(), "major version");

        List<String> catalogs = new ArrayList<>();
        try (ResultSet rs = md.getCatalogs()) {
            while (rs.next()) {
                catalogs.add(rs.getString("TABLE_CAT"));
            }
        }
        check(catalogs.contains("jdbc_db"), "getCatalogs lists jdbc_db: " + catalogs);
        check(catalogs.contains("information_schema"), "getCatalogs lists information_schema: " + catalogs);

        List<String> tables = new ArrayList<>();
        String viewType = null;
        String remarks = null;
        try (ResultSet rs = md.getTables("jdbc_db", null, "%", null)) {
            while (rs.next()) {
                equal("jdbc_db", rs.getString("TABLE_CAT"), "getTables TABLE_CAT");
                String name = rs.getString("TABLE_NAME");
                tables.add(name);
                if (name.equals("v_events")) {
                    viewType = rs.getString("TABLE_TYPE");
                } else if (name.equals("all_types")) {
                    equal("TABLE", rs.getString("TABLE_TYPE"), "all_types TABLE_TYPE");
                    remarks = rs.getString("REMARKS");
                }
            }
        }
        equal(List.of("all_types", "events", "v_events"), tables, "getTables");
        equal("VIEW", viewType, "view TABLE_TYPE");
        equal("one of each", remarks, "table comment as REMARKS");
        try (ResultSet rs = md.getTables("jdbc_db", null, "%", new String[] {"VIEW"})) {
            check(rs.next() && rs.getString("TABLE_NAME").equals("v_events") && !rs.next(), "getTables of type VIEW");
        }

        String[] names = {"k", "b", "ti", "si", "bi", "li", "f", "d", "dc", "dt", "ts", "c", "vc", "s"};
        // As Doris reports them: LARGEINT is DATA_TYPE 'bigint unsigned',
        // which the driver does not map (OTHER); STRING is 'varchar'.
        int[] jdbcTypes = {Types.INTEGER, Types.BIT, Types.TINYINT, Types.SMALLINT, Types.BIGINT, Types.OTHER,
                Types.REAL, Types.DOUBLE, Types.DECIMAL, Types.DATE, Types.TIMESTAMP, Types.CHAR, Types.VARCHAR,
                Types.VARCHAR};
        int i = 0;
        try (ResultSet rs = md.getColumns("jdbc_db", null, "all_types", "%")) {
            while (rs.next()) {
                String col = rs.getString("COLUMN_NAME");
                if (i < names.length) {
                    equal(names[i], col, "getColumns column " + (i + 1));
                    equal(i + 1, rs.getInt("ORDINAL_POSITION"), "ORDINAL_POSITION of " + col);
                    equal(jdbcTypes[i], rs.getInt("DATA_TYPE"), "DATA_TYPE of " + col + " (" + rs.getString("TYPE_NAME") + ")");
                    int nullable = i == 0 ? DatabaseMetaData.columnNoNulls : DatabaseMetaData.columnNullable;
                    equal(nullable, rs.getInt("NULLABLE"), "NULLABLE of " + col);
                    if (col.equals("vc")) {
                        equal(32, rs.getInt("COLUMN_SIZE"), "COLUMN_SIZE of vc");
                    } else if (col.equals("dc")) {
                        equal(18, rs.getInt("COLUMN_SIZE"), "COLUMN_SIZE of dc");
                        equal(4, rs.getInt("DECIMAL_DIGITS"), "DECIMAL_DIGITS of dc");
                    } else if (col.equals("k")) {
                        equal("the key", rs.getString("REMARKS"), "column comment as REMARKS");
                    }
                }
                i++;
            }
        }
        equal(names.length, i, "getColumns row count");

        // Doris reports a UNIQUE table's key columns as COLUMN_KEY 'UNI':
        // no MySQL primary key, so the driver finds none, but its query must
        // run and return the JDBC columns.
        try (ResultSet rs = md.getPrimaryKeys("jdbc_db", null, "all_types")) {
            ResultSetMetaData rm = rs.getMetaData();
            equal(6, rm.getColumnCount(), "getPrimaryKeys column count");
            equal("COLUMN_NAME", rm.getColumnLabel(4).toUpperCase(), "getPrimaryKeys column 4");
            equal("KEY_SEQ", rm.getColumnLabel(5).toUpperCase(), "getPrimaryKeys column 5");
            while (rs.next()) {
                equal("k", rs.getString("COLUMN_NAME"), "primary key column");
            }
        }
        try (ResultSet rs = md.getSchemas()) {
            rs.next(); // an empty or non-empty list: the call must succeed
            passed++;
        }
        try (ResultSet rs = md.getTableTypes()) {
            List<String> types = new ArrayList<>();
            while (rs.next()) {
                types.add(rs.getString(1));
            }
            check(types.contains("TABLE") && types.contains("VIEW"), "getTableTypes " + types);
        }
    }

    static final BigDecimal DEC = new BigDecimal("12345678901234.5678");
    static final Date DATE = Date.valueOf("2024-02-29");
    static final Timestamp TS = Timestamp.valueOf("2024-02-29 23:59:58.125");

    static void preparedTypes(Connection c, String mode) throws SQLException {
        int base = mode.startsWith("useServerPrepStmts=true") ? 100 : 0;
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO all_types (k, b, ti, si, bi, li, f, d, dc, dt, ts, c, vc, s) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
            ps.setInt(1, base + 1);
            ps.setBoolean(2, true);
            ps.setByte(3, (byte) -128);
            ps.setShort(4, (short) 32767);
            ps.setLong(5, Long.MIN_VALUE);
            ps.setBigDecimal(6, new BigDecimal("170141183460469231731687303715884105727"));
            ps.setFloat(7, 1.5f);
            ps.setDouble(8, -2.25e300);
            ps.setBigDecimal(9, DEC);
            ps.setDate(10, DATE);
            ps.setTimestamp(11, TS);
            ps.setString(12, "ab");
            ps.setString(13, "héllo, 世界");
            ps.setString(14, "tab\tnew\nline 'quote' \"dq\" back\\slash");
            equal(1, ps.executeUpdate(), mode + ": insert of every type");

            ps.setInt(1, base + 2);
            int[] sqlTypes = {Types.BOOLEAN, Types.TINYINT, Types.SMALLINT, Types.BIGINT, Types.DECIMAL, Types.FLOAT,
                    Types.DOUBLE, Types.DECIMAL, Types.DATE, Types.TIMESTAMP, Types.CHAR, Types.VARCHAR, Types.VARCHAR};
            for (int i = 0; i < sqlTypes.length; i++) {
                ps.setNull(i + 2, sqlTypes[i]);
            }
            equal(1, ps.executeUpdate(), mode + ": insert of NULLs");
        }

        try (PreparedStatement ps = c.prepareStatement(
                "SELECT k, b, ti, si, bi, li, f, d, dc, dt, ts, c, vc, s FROM all_types WHERE k IN (?, ?) ORDER BY k")) {
            ps.setInt(1, base + 1);
            ps.setInt(2, base + 2);
            try (ResultSet rs = ps.executeQuery()) {
                check(rs.next(), mode + ": first row");
                equal(base + 1, rs.getInt(1), mode + ": k");
                equal(true, rs.getBoolean(2), mode + ": boolean");
                equal((byte) -128, rs.getByte(3), mode + ": tinyint");
                equal((short) 32767, rs.getShort(4), mode + ": smallint");
                equal(Long.MIN_VALUE, rs.getLong(5), mode + ": bigint");
                equal("170141183460469231731687303715884105727", rs.getString(6), mode + ": largeint");
                equal(1.5f, rs.getFloat(7), mode + ": float");
                equal(-2.25e300, rs.getDouble(8), mode + ": double");
                equal(DEC, rs.getBigDecimal(9), mode + ": decimal");
                equal(DATE, rs.getDate(10), mode + ": date");
                equal(TS, rs.getTimestamp(11), mode + ": datetime(3)");
                equal("ab", rs.getString(12), mode + ": char");
                equal("héllo, 世界", rs.getString(13), mode + ": varchar");
                equal("tab\tnew\nline 'quote' \"dq\" back\\slash", rs.getString(14), mode + ": string");

                check(rs.next(), mode + ": second row");
                equal(base + 2, rs.getInt(1), mode + ": k of the NULL row");
                for (int i = 2; i <= 14; i++) {
                    check(rs.getObject(i) == null, mode + ": column " + i + " is NULL, got " + rs.getObject(i));
                    rs.getInt(i);
                    check(rs.wasNull(), mode + ": wasNull on column " + i);
                }
                check(!rs.next(), mode + ": two rows");
            }
        }

        // Every parameter type in a WHERE clause.
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM all_types WHERE b = ? AND ti = ? AND bi = ? AND dc = ? AND dt = ? AND ts = ? AND vc = ? AND d < ?")) {
            ps.setBoolean(1, true);
            ps.setInt(2, -128);
            ps.setLong(3, Long.MIN_VALUE);
            ps.setBigDecimal(4, DEC);
            ps.setDate(5, DATE);
            ps.setTimestamp(6, TS);
            ps.setString(7, "héllo, 世界");
            ps.setDouble(8, 0);
            try (ResultSet rs = ps.executeQuery()) {
                check(rs.next(), mode + ": count row");
                // Rows 1 (and 101, from the run with the other mode); the
                // NULL rows match nothing.
                equal(base == 0 ? 1L : 2L, rs.getLong(1), mode + ": rows matching every parameter type");
            }
        }
    }

    static void batch(Connection c, String mode) throws SQLException {
        int base = mode.startsWith("useServerPrepStmts=true") ? 100000 : 0;
        int n = mode.startsWith("useServerPrepStmts=true") ? 300 : 1000;
        c.setAutoCommit(true);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO events (id, ts, v) VALUES (?, ?, ?)")) {
            for (int i = 0; i < n; i++) {
                ps.setLong(1, base + i);
                ps.setTimestamp(2, Timestamp.valueOf("2024-01-01 00:00:00"));
                if (i % 10 == 0) {
                    ps.setNull(3, Types.INTEGER);
                } else {
                    ps.setInt(3, i);
                }
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            equal(n, counts.length, mode + ": batch result count");
            long sum = 0;
            for (int x : counts) {
                sum += x == Statement.SUCCESS_NO_INFO ? 1 : x;
            }
            equal((long) n, sum, mode + ": batch rows affected");
        }
        try (Statement st = c.createStatement()) {
            st.addBatch("INSERT INTO events VALUES (" + (base + n) + ", '2024-01-02 00:00:00', 7)");
            st.addBatch("INSERT INTO events VALUES (" + (base + n + 1) + ", '2024-01-02 00:00:00', 8)");
            int[] counts = st.executeBatch();
            equal(2, counts.length, mode + ": statement batch");
        }
        long wantSum = 7 + 8;
        for (int i = 0; i < n; i++) {
            if (i % 10 != 0) {
                wantSum += i;
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT count(*), count(v), sum(v) FROM events WHERE id >= ? AND id < ?")) {
            ps.setLong(1, base);
            ps.setLong(2, base + n + 2);
            try (ResultSet rs = ps.executeQuery()) {
                check(rs.next(), mode + ": batch count row");
                equal((long) n + 2, rs.getLong(1), mode + ": batch rows");
                equal((long) n + 2 - n / 10, rs.getLong(2), mode + ": batch non-NULL rows");
                equal(wantSum, rs.getLong(3), mode + ": batch sum");
            }
        }
    }

    static void resultMetadata(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT k AS key_alias, b, ti, si, bi, li, f, d, dc, dt, ts, c, vc, s,"
                        + " CONNECTION_ID() AS cid, 1 + 1 AS two FROM all_types t WHERE k = 1")) {
            ResultSetMetaData md = rs.getMetaData();
            equal(16, md.getColumnCount(), "column count");
            equal("key_alias", md.getColumnLabel(1), "alias as column label");
            equal("k", md.getColumnName(1), "base column as column name");
            // Connector/J reports the table's own name, not its alias.
            equal("all_types", md.getTableName(1), "table name");
            Class<?>[] classes = {Integer.class, Boolean.class, Integer.class, Integer.class, Long.class, String.class,
                    Float.class, Double.class, BigDecimal.class, Date.class, Timestamp.class, String.class,
                    String.class, String.class};
            check(rs.next(), "metadata row");
            for (int i = 0; i < classes.length; i++) {
                Object v = rs.getObject(i + 1);
                check(v != null && classes[i].isInstance(v), "getObject class of " + md.getColumnLabel(i + 1) + ": want "
                        + classes[i].getSimpleName() + " got " + (v == null ? "null" : v.getClass().getSimpleName()));
            }
            equal(Types.BIGINT, md.getColumnType(15), "CONNECTION_ID() type");
            check(rs.getObject(15) instanceof Long, "CONNECTION_ID() as Long");
            equal(Types.BIGINT, md.getColumnType(16), "1 + 1 type");
            equal(Types.DECIMAL, md.getColumnType(9), "DECIMAL column type");
            equal(4, md.getScale(9), "DECIMAL scale");
            equal(ResultSetMetaData.columnNoNulls, md.isNullable(1), "NOT NULL column");
            equal(ResultSetMetaData.columnNullable, md.isNullable(2), "nullable column");
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1 FROM dual")) {
            check(rs.next() && rs.getInt(1) == 1, "SELECT 1 FROM dual");
        }
    }

    static void timeZones(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("SET time_zone = '+08:00'");
            try (ResultSet rs = st.executeQuery("SELECT FROM_UNIXTIME(0), @@time_zone, UNIX_TIMESTAMP('1970-01-01 08:00:01')")) {
                check(rs.next(), "time zone row");
                equal("1970-01-01 08:00:00", rs.getString(1), "FROM_UNIXTIME(0) at +08:00");
                equal("+08:00", rs.getString(2), "@@time_zone");
                equal(1L, rs.getLong(3), "UNIX_TIMESTAMP at +08:00");
            }
            st.execute("SET time_zone = 'UTC'");
            try (ResultSet rs = st.executeQuery("SELECT FROM_UNIXTIME(0), TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), NOW())")) {
                check(rs.next(), "UTC row");
                equal("1970-01-01 00:00:00", rs.getString(1), "FROM_UNIXTIME(0) at UTC");
                check(Math.abs(rs.getLong(2)) <= 2, "NOW() equals UTC_TIMESTAMP() at UTC: " + rs.getLong(2));
            }
            // A DATETIME is a wall-clock value: it reads back as written,
            // whatever the session's time zone.
            st.execute("SET time_zone = 'Asia/Tokyo'");
            try (ResultSet rs = st.executeQuery("SELECT ts FROM all_types WHERE k = 1")) {
                check(rs.next(), "datetime row");
                equal(TS, rs.getTimestamp(1), "DATETIME unchanged by the session time zone");
            }
        }
    }

    static void errors(Connection c) throws SQLException {
        String[][] cases = {
            {"SELEC 1", "1064"},
            {"SELECT * FROM no_such_table", "1146"},
            {"SELECT no_such_column FROM all_types", "1054"},
            {"USE no_such_db", "1049"},
        };
        for (String[] tc : cases) {
            try (Statement st = c.createStatement()) {
                st.executeQuery(tc[0]).close();
                check(false, "no error for " + tc[0]);
            } catch (SQLException e) {
                equal(Integer.parseInt(tc[1]), e.getErrorCode(), "error code of " + tc[0] + " (" + e.getMessage() + ")");
            }
        }
        // The connection survives its errors.
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 2")) {
            check(rs.next() && rs.getInt(1) == 2, "query after errors");
        }
        check(c.isValid(2), "isValid (COM_PING)");
    }
}
