package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/strata-db/strata/fe/cluster"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
)

// alterSystem runs ALTER SYSTEM ... BACKEND.
func (s *Session) alterSystem(ctx context.Context, st *sql.AlterSystemStmt) (*mysqlproto.Result, error) {
	if st.Node != "BACKEND" {
		return nil, ddlError("Frontends join a Strata cluster through etcd: start `strata fe --etcd URLS`; ALTER SYSTEM %s %s is not needed", st.Op, st.Node)
	}
	reg := s.eng.Cluster
	if reg == nil {
		return nil, notSupported("ALTER SYSTEM")
	}
	for _, hp := range st.Hosts {
		host, port, err := splitHostPort(hp)
		if err != nil {
			return nil, err
		}
		switch st.Op {
		case "ADD":
			_, err = reg.AddBackend(ctx, host, port)
			if errors.Is(err, cluster.ErrBackendExists) {
				return nil, ddlError("Same backend already exists[%s]", hp)
			}
		case "DROP", "DROPP":
			err = reg.DropBackend(ctx, host, port)
		case "DECOMMISSION":
			err = reg.Decommission(ctx, host, port)
		}
		if errors.Is(err, cluster.ErrBackendNotFound) {
			return nil, ddlError("backend does not exists[%s]", hp)
		}
		if err != nil {
			return nil, err
		}
	}
	return ok(0), nil
}

// splitHostPort checks a "host:port" of ALTER SYSTEM.
func splitHostPort(hp string) (string, int, error) {
	host, ps, err := net.SplitHostPort(hp)
	if err != nil || host == "" {
		return "", 0, ddlError("Invalid host port format: %s, host port should be like 'host:port'", hp)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, ddlError("Port is out of range: %s", ps)
	}
	return host, port, nil
}

// showBackends answers SHOW BACKENDS with Doris's columns. Strata's
// backends have one RPC port (BrpcPort), which is also the port ALTER
// SYSTEM ADD BACKEND names (HeartbeatPort); the thrift and Flight SQL ports
// they lack show -1.
func (s *Session) showBackends() (*mysqlproto.Result, error) {
	fields := stringFields("BackendId", "Host", "HeartbeatPort", "BePort", "HttpPort", "BrpcPort", "ArrowFlightSqlPort",
		"LastStartTime", "LastHeartbeat", "Alive", "SystemDecommissioned", "TabletNum", "DataUsedCapacity",
		"TrashUsedCapacity", "AvailCapacity", "TotalCapacity", "UsedPct", "MaxDiskUsedPct", "RemoteUsedCapacity",
		"Tag", "ErrMsg", "Version", "Status", "HeartbeatFailureCounter", "NodeRole")
	var rows [][]any
	if s.eng.Cluster == nil {
		return mysqlproto.NewRowsResult(fields, rows), nil
	}
	for _, b := range s.eng.Cluster.Backends() {
		st := b.Status
		httpPort, start, beat, errMsg := any(nil), any(nil), any(nil), ""
		if b.Alive {
			httpPort, start, beat = st.HTTPPort, nodeTime(st.StartTime), nodeTime(st.ReportTime)
		} else {
			errMsg = "no liveness lease in etcd: the backend is down or cannot reach etcd"
		}
		used := 0.0
		if st.TotalBytes > 0 {
			used = 100 * float64(st.TotalBytes-st.AvailBytes) / float64(st.TotalBytes)
		}
		rows = append(rows, []any{
			b.ID, b.Host, b.Port, -1, httpPort, b.Port, -1,
			start, beat, boolText(b.Alive), boolText(b.Decommissioned), st.TabletNum, capacity(st.DataUsedBytes),
			capacity(0), capacity(st.AvailBytes), capacity(st.TotalBytes), fmt.Sprintf("%.2f %%", used), fmt.Sprintf("%.2f %%", used), capacity(0),
			`{"location" : "default"}`, errMsg, st.Version, "{}", 0, "mix",
		})
	}
	return mysqlproto.NewRowsResult(fields, rows), nil
}

// showFrontends answers SHOW FRONTENDS with Doris's columns. Frontends
// share etcd rather than a replicated journal: every one is a FOLLOWER,
// the leader of etcd's election is the master, and ReplayedJournalId is
// the etcd revision this frontend's catalog has applied.
func (s *Session) showFrontends() (*mysqlproto.Result, error) {
	fields := stringFields("Name", "Host", "EditLogPort", "HttpPort", "QueryPort", "RpcPort", "ArrowFlightSqlPort",
		"Role", "IsMaster", "ClusterId", "Join", "Alive", "ReplayedJournalId", "LastStartTime", "LastHeartbeat",
		"IsHelper", "ErrMsg", "Version", "CurrentConnected")
	var rows [][]any
	if s.eng.Cluster == nil {
		return mysqlproto.NewRowsResult(fields, rows), nil
	}
	leader := ""
	if s.eng.LeaderName != nil {
		leader = s.eng.LeaderName()
	}
	now := time.Now().UnixMilli()
	for _, f := range s.eng.Cluster.Frontends() {
		self := f.Name == s.eng.FrontendName
		replayed := any(nil)
		if self {
			replayed = s.eng.Catalog.Snapshot().Revision()
		}
		rows = append(rows, []any{
			f.Name, f.Host, -1, f.HTTPPort, f.QueryPort, f.RPCPort, -1,
			"FOLLOWER", boolText(f.Name == leader), 0, "true", "true", replayed, nodeTime(f.StartTime), nodeTime(now),
			"false", "", f.Version, yesNo(self),
		})
	}
	return mysqlproto.NewRowsResult(fields, rows), nil
}

func nodeTime(ms int64) any {
	if ms == 0 {
		return nil
	}
	return time.UnixMilli(ms).Format("2006-01-02 15:04:05")
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// capacity prints a byte count as Doris does: "1.500 GB", "0.000 ".
func capacity(n int64) string {
	const unit = 1024.0
	v := float64(n)
	for _, u := range []string{"", "KB", "MB", "GB", "TB"} {
		if v < unit || u == "TB" {
			return fmt.Sprintf("%.3f %s", v, u)
		}
		v /= unit
	}
	return ""
}
