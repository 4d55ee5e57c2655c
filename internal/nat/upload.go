package nat

import (
	"context"
	"fmt"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/ids"
)

// resultAliases are the column names of a lab's file.
var resultAliases = map[string]string{
	"barcode": "barcode", "tube": "barcode", "条码": "barcode", "试管条码": "barcode", "样本条码": "barcode", "管码": "barcode",
	"result": "result", "结果": "result", "检测结果": "result",
}

// UploadLine is one line of an upload's report.
type UploadLine struct {
	Line    int
	Barcode string
	Result  string
	Status  string // accepted, unchanged, refused
	Code    string
	Message string
}

// UploadReport is the outcome of a lab's file.
type UploadReport struct {
	ID        string
	Lines     int
	Accepted  int
	Unchanged int
	Refused   int
	Persons   int // people in the accepted tubes
	Facts     int // facts the status engine created
	// FactsPending counts accepted tubes whose facts could not be passed
	// on yet; they are kept and retried in the background.
	FactsPending int
	Report       []UploadLine
}

// Upload takes a lab's CSV file of tube results: a header line naming the
// barcode and result columns (other columns are ignored), or no header and
// the first two columns. Each line is accepted, unchanged (the same result
// was reported before) or refused with the reason; good lines are kept
// whatever happens to the others. Tubes are stored and their facts
// recorded in chunks, one transaction and one Record call per chunk.
func (s *Service) Upload(ctx context.Context, by *auth.Principal, body []byte, lab string) (*UploadReport, error) {
	if err := by.Require(auth.ResultWrite); err != nil {
		return nil, err
	}
	if lab != "" {
		var err error
		if lab, err = labName(lab); err != nil {
			return nil, err
		}
	}
	if s.deps.Facts == nil {
		return nil, errNoFacts
	}
	lines := readCSV(body)
	if len(lines) == 0 {
		return nil, ErrCSVEmpty.Withf("the file has no lines; send barcode,result lines")
	}
	if len(lines) > MaxUploadLines {
		return nil, ErrCSVTooLong.Withf("at most %d lines per file", MaxUploadLines)
	}
	bc, rc := 0, 1
	if lines[0].err == nil {
		if cols := header(lines[0].fields, resultAliases); cols != nil {
			var okB, okR bool
			bc, okB = cols["barcode"]
			rc, okR = cols["result"]
			if !okB || !okR {
				return nil, ErrCSVHeader.Withf("the header must name a barcode column and a result column")
			}
			lines = lines[1:]
		}
	}
	rep := &UploadReport{ID: ids.New(), Lines: len(lines), Report: make([]UploadLine, len(lines))}
	var items []item
	seen := make(map[string]int, len(lines))
	for i, ln := range lines {
		l := &rep.Report[i]
		l.Line = ln.num
		if ln.err != nil {
			setRefused(l, ErrCSVMalformed.Withf("%v", ln.err))
			continue
		}
		if len(ln.fields) <= max(bc, rc) {
			setRefused(l, ErrCSVMalformed.Withf("the line has %d fields; the barcode and the result are needed", len(ln.fields)))
			continue
		}
		// A refused line shows what it held, cut short; an accepted one the
		// parsed values.
		b, err := ParseBarcode(ln.fields[bc])
		if err != nil {
			l.Barcode, l.Result = truncate(ln.fields[bc], 40), truncate(ln.fields[rc], 20)
			setRefused(l, err)
			continue
		}
		l.Barcode = b
		word, err := ParseResult(ln.fields[rc])
		if err != nil {
			l.Result = truncate(ln.fields[rc], 20)
			setRefused(l, err)
			continue
		}
		l.Result = word
		if first, dup := seen[b]; dup {
			setRefused(l, ErrDuplicateLine.Withf("tube %s is also on line %d", b, first))
			continue
		}
		seen[b] = ln.num
		items = append(items, item{line: i, barcode: b, word: word})
	}
	source := "nat-upload/" + rep.ID
	for _, chunk := range chunks(items, s.cfg.ChunkTubes) {
		outs, pend, err := s.reportChunk(ctx, by, chunk, lab, source)
		if err != nil {
			return nil, err
		}
		for j, o := range outs {
			l := &rep.Report[chunk[j].line]
			switch o.status {
			case "refused":
				setRefused(l, o.err)
			default:
				l.Status = o.status
				if o.status == "accepted" {
					rep.Persons += o.tube.Samples
				}
			}
		}
		n, err := s.recordFacts(ctx, by.Actor(), pend)
		rep.Facts += n
		if err != nil {
			// The results are stored; RecordPending passes them on later.
			s.log.Error("nat: upload: facts not recorded; left for the retry worker", "upload", rep.ID, "tubes", len(pend), "err", err)
			rep.FactsPending += len(pend)
		}
	}
	for _, l := range rep.Report {
		switch l.Status {
		case "accepted":
			rep.Accepted++
		case "unchanged":
			rep.Unchanged++
		default:
			rep.Refused++
		}
	}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		now := s.clock()
		if _, err := tx.ExecContext(ctx, `INSERT INTO nat_uploads (id, lab, lines, accepted, refused, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, rep.ID, lab, rep.Lines, rep.Accepted, rep.Refused, now.UnixMilli(), by.Actor()); err != nil {
			return fmt.Errorf("nat: record upload: %w", err)
		}
		lo, _ := by.Bounds()
		_, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "nat.results.upload", Subject: "upload:" + rep.ID,
			Region: lo, Detail: map[string]any{"lines": rep.Lines, "accepted": rep.Accepted, "unchanged": rep.Unchanged, "refused": rep.Refused}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

func setRefused(l *UploadLine, err error) {
	l.Status = "refused"
	if e, ok := apierr.As(err); ok {
		l.Code, l.Message = e.Code, e.Message
		return
	}
	l.Code, l.Message = "line_invalid", err.Error()
}

func chunks[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}
