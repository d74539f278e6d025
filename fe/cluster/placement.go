package cluster

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/strata-db/strata/fe/catalog"
)

// DefaultReplicationNum is a table's replica count when CREATE TABLE names
// none: Doris's 3, or every backend when the cluster has fewer.
const DefaultReplicationNum = 3

// NotEnoughBackendsError is a placement that needs more live backends than
// the cluster has that can take replicas.
type NotEnoughBackendsError struct {
	Need, Have int
}

func (e *NotEnoughBackendsError) Error() string {
	return fmt.Sprintf("Failed to find enough backend, please check the replication num,replication tag and storage medium and avail capacity of backends or maybe all be on decommission state. Create failed replications:\n"+
		"replication tag: {\"location\" : \"default\"}, replication num: %d, storage medium: HDD", e.Need)
}

// ReplicationNum is the replica count a table asks for: its
// replication_num property, or the default for a cluster of alive
// backends.
func ReplicationNum(t *catalog.Table, alive int) (int, error) {
	if v, ok := t.Properties["replication_num"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("Invalid replication_num '%s': it must be a positive integer", v)
		}
		return n, nil
	}
	return max(1, min(DefaultReplicationNum, alive)), nil
}

// Candidates are the backends that can take new replicas: added, alive and
// not decommissioned, by id.
func (r *Registry) Candidates() []int64 {
	var out []int64
	for _, b := range r.Backends() {
		if b.Alive && !b.Decommissioned {
			out = append(out, b.ID)
		}
	}
	return out
}

// Place gives every bucket of every partition of t replicas on n distinct
// backends among candidates, each time on the backends holding the fewest
// replicas (load, which it updates), so that the table spreads evenly.
func Place(t *catalog.Table, n int, candidates []int64, load map[int64]int) error {
	if n > len(candidates) {
		return &NotEnoughBackendsError{Need: n, Have: len(candidates)}
	}
	for i := range t.Partitions {
		p := &t.Partitions[i]
		p.Backends = make([][]int64, len(p.Tablets))
		for b := range p.Tablets {
			p.Backends[b] = pick(n, candidates, load)
		}
	}
	return nil
}

// pick returns the n least loaded candidates, sorted by id, and counts
// them. Ties go to the lower id after the last pick's rotation, so equal
// backends take turns.
func pick(n int, candidates []int64, load map[int64]int) []int64 {
	c := slices.Clone(candidates)
	slices.SortStableFunc(c, func(a, b int64) int { return load[a] - load[b] })
	out := slices.Clone(c[:n])
	for _, id := range out {
		load[id]++
	}
	slices.Sort(out)
	return out
}

// Load counts the replicas each backend holds in a catalog snapshot's
// tables (one per bucket of every partition).
func Load(tables []*catalog.Table) map[int64]int {
	load := map[int64]int{}
	for _, t := range tables {
		for _, p := range t.Partitions {
			for _, bes := range p.Backends {
				for _, id := range bes {
					load[id]++
				}
			}
		}
	}
	return load
}

// PropColocateWith is the table property naming a table's colocation
// group: tables of one group in one database keep bucket b of every
// partition on the same backends, so a join on their distribution columns
// needs no data to move.
const PropColocateWith = "colocate_with"

// ColocateError is a table that cannot join its colocation group, with
// Doris's wording.
type ColocateError struct{ Msg string }

func (e *ColocateError) Error() string { return e.Msg }

// ColocateGroup returns the tables of t's database (among tables) in the
// colocation group t names, and the group's name ("" when t names none).
func ColocateGroup(t *catalog.Table, tables []*catalog.Table) (string, []*catalog.Table) {
	group := t.Properties[PropColocateWith]
	if group == "" {
		return "", nil
	}
	var out []*catalog.Table
	for _, o := range tables {
		if o.ID != t.ID && o.DBID == t.DBID && o.Properties[PropColocateWith] == group {
			out = append(out, o)
		}
	}
	return group, out
}

// PlaceColocated places a table of a colocation group: like an existing
// member when there is one (after checking it may join: same buckets,
// replicas, distribution column count and types), else every partition's
// bucket b on the same backends.
func PlaceColocated(t *catalog.Table, n int, candidates []int64, load map[int64]int, members []*catalog.Table) error {
	if len(members) == 0 {
		if err := Place(t, n, candidates, load); err != nil {
			return err
		}
		for i := 1; i < len(t.Partitions); i++ {
			t.Partitions[i].Backends = t.Partitions[0].Backends
		}
		return nil
	}
	m := members[0]
	if got, want := t.Distribution.Buckets, m.Distribution.Buckets; got != want {
		return &ColocateError{fmt.Sprintf("Colocate tables must have same bucket num: %d should be %d", got, want)}
	}
	if mn, _ := ReplicationNum(m, n); mn != n {
		return &ColocateError{fmt.Sprintf("Colocate tables must have same replication allocation: { tag.location.default: %d } should be { tag.location.default: %d }", n, mn)}
	}
	tc, mc := distTypes(t), distTypes(m)
	if len(tc) != len(mc) {
		return &ColocateError{fmt.Sprintf("Colocate tables distribution columns size must be same: %d should be %d", len(tc), len(mc))}
	}
	for i := range tc {
		if tc[i] != mc[i] {
			return &ColocateError{fmt.Sprintf("Colocate tables distribution columns must have the same data type: %s should be %s", tc[i], mc[i])}
		}
	}
	if len(m.Partitions) == 0 || len(m.Partitions[0].Backends) != t.Distribution.Buckets {
		return &ColocateError{fmt.Sprintf("colocate group member %s has no placed buckets", m.Name)}
	}
	for i := range t.Partitions {
		t.Partitions[i].Backends = m.Partitions[0].Backends
		for _, bes := range t.Partitions[i].Backends {
			for _, id := range bes {
				load[id]++
			}
		}
	}
	return nil
}

// distTypes are the types of a table's distribution columns, as text.
func distTypes(t *catalog.Table) []string {
	var out []string
	for _, name := range t.Distribution.Columns {
		if _, c := t.Schema.ColumnByName(name); c != nil {
			out = append(out, c.Type.String())
		}
	}
	return out
}
