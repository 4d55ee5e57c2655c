package status

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
)

// A pack is a person's facts in recording order, each as
//
//	uvarint id, uvarint len + kind, varint at, varint until, varint recorded_at,
//	uvarint len + source, uvarint len + attrs (JSON)
//
// with times in unix milliseconds (0: none). Appending a fact appends its
// bytes, so a pack is rewritten, never re-encoded.

var errPack = errors.New("status: corrupt fact pack")

func appendPacked(b []byte, f *storedFact) []byte {
	b = binary.AppendUvarint(b, uint64(f.id))
	b = binary.AppendUvarint(b, uint64(len(f.kind)))
	b = append(b, f.kind...)
	b = binary.AppendVarint(b, f.at)
	b = binary.AppendVarint(b, f.until)
	b = binary.AppendVarint(b, f.recorded)
	b = binary.AppendUvarint(b, uint64(len(f.source)))
	b = append(b, f.source...)
	b = binary.AppendUvarint(b, uint64(len(f.attrs)))
	return append(b, f.attrs...)
}

// kindNames interns kinds: a pack decodes millions of them in a recompute.
var kindNames = func() map[string]string {
	m := map[string]string{}
	for _, k := range fact.Kinds() {
		m[k.Kind] = k.Kind
	}
	return m
}()

// unpack appends the facts of person num in data with id <= maxID.
func unpack(out []storedFact, num int64, data []byte, maxID int64) ([]storedFact, error) {
	for len(data) > 0 {
		var f storedFact
		f.num = num
		var n int
		var u uint64
		if u, n = binary.Uvarint(data); n <= 0 {
			return out, errPack
		}
		f.id, data = int64(u), data[n:]
		kind, rest, err := bytesField(data)
		if err != nil {
			return out, err
		}
		if k, ok := kindNames[string(kind)]; ok {
			f.kind = k
		} else {
			f.kind = string(kind)
		}
		data = rest
		for _, dst := range []*int64{&f.at, &f.until, &f.recorded} {
			v, n := binary.Varint(data)
			if n <= 0 {
				return out, errPack
			}
			*dst, data = v, data[n:]
		}
		src, rest, err := bytesField(data)
		if err != nil {
			return out, err
		}
		f.source, data = string(src), rest
		attrs, rest, err := bytesField(data)
		if err != nil {
			return out, err
		}
		f.attrs, data = string(attrs), rest
		if f.id <= maxID {
			out = append(out, f)
		}
	}
	return out, nil
}

func bytesField(data []byte) ([]byte, []byte, error) {
	u, n := binary.Uvarint(data)
	if n <= 0 || u > uint64(len(data)-n) {
		return nil, nil, errPack
	}
	return data[n : n+int(u)], data[n+int(u):], nil
}

type pack struct {
	num  int64
	data []byte
}

// packsOf reads the facts of persons (sorted) from their packs.
func (s *Service) packsOf(ctx context.Context, q db.Querier, ns []int64) ([]storedFact, map[int64][]byte, error) {
	var out []storedFact
	raw := make(map[int64][]byte, len(ns))
	var err error
	if s.db.Engine() == db.Postgres {
		// Joined with the numbers as one array: an IN list that the planner
		// sends through a sequential scan (statistics taken while the
		// table was small, as when a bulk Record has just filled it) tests
		// every row against every number, and chunk after chunk of a bulk
		// Record grew slower with the table.
		err = db.Each(ctx, q, `SELECT p.person_num, p.data FROM unnest($1::bigint[]) AS k (num) JOIN fact_packs p ON p.person_num = k.num
			ORDER BY p.person_num`, []any{ns}, readPack(&out, raw, math.MaxInt64, nil))
	} else {
		err = s.eachOf(ctx, q, `SELECT person_num, data FROM fact_packs`, "person_num", ns, ` ORDER BY person_num`,
			func(theirs func(int64) bool) func(db.Scanner) error {
				return readPack(&out, raw, math.MaxInt64, theirs)
			})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("status: read facts: %w", err)
	}
	return out, raw, nil
}

// packsInRange reads the facts of persons lo <= num < hi with id <= maxID.
func packsInRange(ctx context.Context, q db.Querier, lo, hi, maxID int64) ([]storedFact, error) {
	var out []storedFact
	err := db.Each(ctx, q, `SELECT person_num, data FROM fact_packs WHERE person_num >= $1 AND person_num < $2 ORDER BY person_num`,
		[]any{lo, hi}, readPack(&out, nil, maxID, nil))
	if err != nil {
		return nil, fmt.Errorf("status: read facts: %w", err)
	}
	return out, nil
}

// readPack appends the facts with id <= maxID of each pack row to out, and
// keeps the pack itself in raw unless raw is nil. With in, only the rows of
// the persons it holds (denseIn).
func readPack(out *[]storedFact, raw map[int64][]byte, maxID int64, in func(int64) bool) func(db.Scanner) error {
	return func(sc db.Scanner) error {
		var p pack
		if err := sc.Scan(&p.num, &p.data); err != nil {
			return err
		}
		if in != nil && !in(p.num) {
			return nil
		}
		var err error
		if *out, err = unpack(*out, p.num, p.data, maxID); err != nil {
			return fmt.Errorf("person %d: %w", p.num, err)
		}
		if raw != nil {
			raw[p.num] = p.data
		}
		return nil
	}
}

// appendPacks adds newly stored facts (sorted by person, then id) to the
// persons' packs. old holds the packs as read in the same transaction,
// under the persons' status row locks. With claim (settle's), the persons
// without a pack are claimed like their status rows: their first packs are
// inserted without ON CONFLICT (claimInsert).
func (s *Service) appendPacks(ctx context.Context, tx db.Tx, old map[int64][]byte, added []storedFact, claim bool) error {
	var args, fresh []any
	for i := 0; i < len(added); {
		num := added[i].num
		prev, had := old[num]
		data := append([]byte(nil), prev...)
		var last int64
		for ; i < len(added) && added[i].num == num; i++ {
			data = appendPacked(data, &added[i])
			last = added[i].id
		}
		if claim && !had {
			fresh = append(fresh, num, last, data)
		} else {
			args = append(args, num, last, data)
		}
	}
	if len(args) > 0 {
		if err := s.execMany(ctx, tx, `INSERT INTO fact_packs (person_num, last_id, data)`,
			`ON CONFLICT (person_num) DO UPDATE SET last_id = excluded.last_id, data = excluded.data`, 3, args); err != nil {
			return fmt.Errorf("status: write fact packs: %w", err)
		}
	}
	if len(fresh) > 0 {
		err := claimInsert(ctx, tx, func() error {
			return s.execMany(ctx, tx, `INSERT INTO fact_packs (person_num, last_id, data)`, ``, 3, fresh)
		})
		if err != nil {
			return fmt.Errorf("status: write fact packs: %w", err)
		}
	}
	return nil
}

// mergeFacts returns facts (sorted by person, then id) with newer added,
// keeping only the persons lo <= num < hi of newer (hi 0: all), sorted the
// same way.
func mergeFacts(facts, newer []storedFact, lo, hi int64) []storedFact {
	if len(newer) == 0 {
		return facts
	}
	sort.Slice(newer, func(i, j int) bool {
		if newer[i].num != newer[j].num {
			return newer[i].num < newer[j].num
		}
		return newer[i].id < newer[j].id
	})
	out := make([]storedFact, 0, len(facts)+len(newer))
	i := 0
	for _, n := range newer {
		if n.num < lo || (hi != 0 && n.num >= hi) {
			continue
		}
		for i < len(facts) && (facts[i].num < n.num || (facts[i].num == n.num && facts[i].id < n.id)) {
			out = append(out, facts[i])
			i++
		}
		out = append(out, n)
	}
	return append(out, facts[i:]...)
}

// RebuildPacks rewrites every person's fact pack from the facts table, in
// batches: a repair for packs damaged by hand, never needed in operation.
func (s *Service) RebuildPacks(ctx context.Context) error {
	var after int64
	for {
		nums, err := db.Collect(ctx, s.db, `SELECT DISTINCT person_num FROM facts WHERE person_num > $1 ORDER BY person_num LIMIT 1000`,
			[]any{after}, scanNum)
		if err != nil {
			return fmt.Errorf("status: rebuild packs: %w", err)
		}
		if len(nums) == 0 {
			return nil
		}
		after = nums[len(nums)-1]
		err = s.db.InTx(ctx, func(tx db.Tx) error {
			people, err := s.personRegions(ctx, tx, nums)
			if err != nil {
				return err
			}
			if _, err := s.lockRows(ctx, tx, people); err != nil {
				return err
			}
			if _, err := db.ExecIn(ctx, tx, s.db.Engine(), `DELETE FROM fact_packs WHERE person_num IN `, nil, nums, ``); err != nil {
				return err
			}
			facts, err := s.factRowsOf(ctx, tx, nums)
			if err != nil {
				return err
			}
			return s.appendPacks(ctx, tx, nil, facts, false)
		})
		if err != nil {
			return fmt.Errorf("status: rebuild packs: %w", err)
		}
	}
}
