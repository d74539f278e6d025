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
