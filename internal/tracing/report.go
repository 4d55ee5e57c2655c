package tracing

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// A report chunk is its lines one after the other, each as unsigned
// varints: person, case (0 for none), place, case_at, person_at - case_at
// (zig-zag), overlap minutes, encounters; then the companion's region as a
// length and bytes. Times are unix ms.

func encodeLines(lines []*found) []byte {
	b := make([]byte, 0, len(lines)*40)
	for _, f := range lines {
		b = binary.AppendUvarint(b, uint64(f.person))
		b = binary.AppendUvarint(b, uint64(f.cse))
		b = binary.AppendUvarint(b, uint64(f.place))
		b = binary.AppendUvarint(b, uint64(f.caseAt))
		b = binary.AppendVarint(b, f.personAt-f.caseAt)
		b = binary.AppendUvarint(b, uint64(f.overlap))
		b = binary.AppendUvarint(b, uint64(f.n))
		b = binary.AppendUvarint(b, uint64(len(f.region)))
		b = append(b, f.region...)
	}
	return b
}

var errCorrupt = errors.New("tracing: corrupt report chunk")

func decodeLines(b []byte, n int) ([]found, error) {
	out := make([]found, 0, n)
	u := func() uint64 {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			b = nil
			return 0
		}
		b = b[k:]
		return v
	}
	for range n {
		var f found
		f.person, f.cse, f.place, f.caseAt = int64(u()), int64(u()), int64(u()), int64(u())
		d, k := binary.Varint(b)
		if k <= 0 {
			return nil, errCorrupt
		}
		b = b[k:]
		f.personAt = f.caseAt + d
		f.overlap, f.n = int64(u()), int64(u())
		l := int(u())
		if b == nil || l > len(b) {
			return nil, errCorrupt
		}
		f.region, b = string(b[:l]), b[l:]
		out = append(out, f)
	}
	if len(b) != 0 {
		return nil, errCorrupt
	}
	return out, nil
}

// reportLines calls fn with each line of a run's report after seq after
// that keep accepts, in order, up to limit lines (0: all).
func (s *Service) reportLines(ctx context.Context, id string, after int64, limit int, keep func(found) bool, fn func(seq int64, f found) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT first_seq, lines, data FROM tracing_reports
		WHERE run_id = $1 AND first_seq + lines > $2 ORDER BY first_seq`, id, after+1)
	if err != nil {
		return fmt.Errorf("tracing: report: %w", err)
	}
	type chunk struct {
		first, n int64
		data     []byte
	}
	// Chunks are read ahead of decoding so the connection is free before fn
	// (which may query) runs; a page touches one or two chunks.
	var chunks []chunk
	need := int64(limit)
	for rows.Next() {
		var c chunk
		if err := rows.Scan(&c.first, &c.n, &c.data); err != nil {
			rows.Close()
			return fmt.Errorf("tracing: report: %w", err)
		}
		chunks = append(chunks, c)
		// Lines kept are not known before decoding: a filtered page reads on.
		if limit > 0 && keep == nil {
			need -= c.first + c.n - max(c.first, after+1)
			if need <= 0 {
				break
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("tracing: report: %w", err)
	}
	sent := 0
	for _, c := range chunks {
		lines, err := decodeLines(c.data, int(c.n))
		if err != nil {
			return fmt.Errorf("tracing: run %s, lines from %d: %w", id, c.first, err)
		}
		for i, f := range lines {
			seq := c.first + int64(i)
			if seq <= after || keep != nil && !keep(f) {
				continue
			}
			if limit > 0 && sent == limit {
				return nil
			}
			if err := fn(seq, f); err != nil {
				return err
			}
			sent++
		}
	}
	return nil
}
