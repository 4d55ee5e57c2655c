package trip

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/riskarea"
)

// ScopeStays is the API-key scope of a carrier that sends its stays.
const ScopeStays = org.ScopeTripStays

// MaxFeedLines bounds one file or one request of the carrier's stays.
const MaxFeedLines = 50000

// FeedLine is one stay as the carrier sends it.
type FeedLine struct {
	Phone     string
	City      string // the city's code: 4 digits, or 6 ending in 00
	FirstSeen time.Time
	LastSeen  time.Time
}

// Refused is a refused line and why.
type Refused struct {
	Line    int
	Code    string
	Message string
}

// FeedReport says what an import took and refused, line by line; Facts is
// how many visit.risk_area facts the new stays produced.
type FeedReport struct {
	Lines, Accepted, Facts int
	Refused                []Refused
}

type feedRow struct {
	hash        []byte
	city        string
	first, last int64
}

// mayFeed admits the carrier's key (scope trip.stays) or an operator with
// riskarea.write (a file the carrier handed over).
func mayFeed(by *auth.Principal) error {
	if by != nil && by.Kind == auth.Operator {
		return by.Require(auth.RiskAreaWrite)
	}
	return by.RequireScope(ScopeStays)
}

// cityCode checks a city as the carrier writes it and returns the table's
// city-level code.
func (s *Service) cityCode(v string) (string, error) {
	v = strings.TrimSpace(v)
	if len(v) == 6 && strings.HasSuffix(v, "00") {
		v = v[:4]
	}
	if region.LevelOf(v) != region.City {
		return "", ErrCityInvalid.Withf("%q is not a city code (4 digits, or 6 ending in 00)", truncate(v))
	}
	if err := s.d.Regions.Validate(v); err != nil {
		return "", ErrCityInvalid.Withf("no city has the code %s", v)
	}
	return v, nil
}

func truncate(s string) string {
	if r := []rune(s); len(r) > 20 {
		return string(r[:20]) + "…"
	}
	return s
}

func (s *Service) checkLine(l FeedLine, now time.Time) (feedRow, error) {
	phone, err := idnum.NormalizePhone(l.Phone)
	if err != nil {
		return feedRow{}, err
	}
	city, err := s.cityCode(l.City)
	if err != nil {
		return feedRow{}, err
	}
	switch {
	case l.FirstSeen.IsZero() || l.LastSeen.IsZero():
		return feedRow{}, ErrSeenMissing
	case l.LastSeen.Before(l.FirstSeen):
		return feedRow{}, ErrSeenInverted
	case l.LastSeen.After(now.Add(5 * time.Minute)):
		return feedRow{}, ErrSeenFuture
	}
	return feedRow{hash: s.d.Keys.BlindIndex("phone", phone), city: city, first: l.FirstSeen.UnixMilli(), last: l.LastSeen.UnixMilli()}, nil
}

// Feed stores the carrier's stays: each line is checked on its own, a
// refused line is reported and the good ones are kept (in one
// transaction). A new stay longer than MinStay in a city that has a
// medium- or high-risk area now becomes a visit.risk_area fact of the
// person registered with that phone.
func (s *Service) Feed(ctx context.Context, by *auth.Principal, lines []FeedLine) (*FeedReport, error) {
	if err := mayFeed(by); err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, ErrFeedEmpty
	}
	if len(lines) > MaxFeedLines {
		return nil, ErrFeedTooLong.Withf("at most %d stays at once", MaxFeedLines)
	}
	now := s.now().UTC()
	rep := &FeedReport{Lines: len(lines), Refused: []Refused{}}
	rows := make([]feedRow, 0, len(lines))
	for i, l := range lines {
		r, err := s.checkLine(l, now)
		if err != nil {
			ae, ok := apierr.As(err)
			if !ok {
				return nil, err
			}
			rep.Refused = append(rep.Refused, Refused{Line: i + 1, Code: ae.Code, Message: ae.Message})
			continue
		}
		rows = append(rows, r)
	}
	if err := s.store(ctx, by, rows, now); err != nil {
		return nil, err
	}
	rep.Accepted = len(rows)
	n, err := s.markNewStays(ctx, rows, now)
	if err != nil {
		return nil, err
	}
	rep.Facts = n
	return rep, nil
}

func (s *Service) store(ctx context.Context, by *auth.Principal, rows []feedRow, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	source := "carrier"
	if by.Kind == auth.Operator {
		source = "file"
	}
	return s.d.DB.InTx(ctx, func(tx db.Tx) error {
		ins := db.Insert{Head: `INSERT INTO trip_stays (phone_hash, city_code, first_seen, last_seen, source, recorded_at) VALUES `, Cols: 6}
		args := make([]any, 0, 6*len(rows))
		for _, r := range rows {
			args = append(args, r.hash, r.city, r.first, r.last, source, now.UnixMilli())
		}
		if _, err := ins.Exec(ctx, tx, s.d.DB.Engine(), args); err != nil {
			return fmt.Errorf("trip: store stays: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "trip.stays.import", Subject: "trip_stays",
			Detail: map[string]any{"stays": len(rows), "source": source}})
		return err
	})
}

// FeedCSV reads the carrier's file (phone, city, first_seen, last_seen;
// times RFC 3339 or YYYY-MM-DD HH:MM in Beijing time) and feeds it. A line
// that is not even CSV is refused on its own like any bad line.
func (s *Service) FeedCSV(ctx context.Context, by *auth.Principal, data []byte) (*FeedReport, error) {
	if err := mayFeed(by); err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, ErrFeedEmpty
	}
	want := []string{"phone", "city", "first_seen", "last_seen"}
	if err != nil || len(head) < len(want) {
		return nil, ErrFeedHeader
	}
	for i, c := range want {
		if strings.TrimSpace(strings.ToLower(head[i])) != c {
			return nil, ErrFeedHeader
		}
	}
	var lines []FeedLine
	var bad []Refused
	for n := 2; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if len(lines)+len(bad) >= MaxFeedLines {
			return nil, ErrFeedTooLong.Withf("a file holds at most %d lines", MaxFeedLines)
		}
		if err != nil || len(rec) < len(want) {
			bad = append(bad, Refused{Line: n - 1, Code: ErrFeedLine.Code, Message: ErrFeedLine.Message})
			continue
		}
		l := FeedLine{Phone: rec[0], City: rec[1]}
		if l.FirstSeen, err = riskarea.ParseTime(rec[2]); err != nil {
			bad = append(bad, Refused{Line: n - 1, Code: ErrSeenFormat.Code, Message: ErrSeenFormat.Message})
			continue
		}
		if l.LastSeen, err = riskarea.ParseTime(rec[3]); err != nil {
			bad = append(bad, Refused{Line: n - 1, Code: ErrSeenFormat.Code, Message: ErrSeenFormat.Message})
			continue
		}
		lines = append(lines, l)
	}
	if len(lines)+len(bad) == 0 {
		return nil, ErrFeedEmpty
	}
	if len(lines) == 0 {
		return &FeedReport{Lines: len(bad), Refused: bad}, nil
	}
	rep, err := s.Feed(ctx, by, lines)
	if err != nil {
		return nil, err
	}
	// Feed numbers the lines it was given; renumber them as data lines of
	// the file (1 = the first line after the header).
	idx := make([]int, 0, len(lines))
	badAt := map[int]bool{}
	for _, b := range bad {
		badAt[b.Line] = true
	}
	for i := 1; len(idx) < len(lines); i++ {
		if !badAt[i] {
			idx = append(idx, i)
		}
	}
	for i := range rep.Refused {
		rep.Refused[i].Line = idx[rep.Refused[i].Line-1]
	}
	rep.Refused = append(rep.Refused, bad...)
	sortRefused(rep.Refused)
	rep.Lines += len(bad)
	return rep, nil
}

func sortRefused(r []Refused) {
	for i := 1; i < len(r); i++ {
		for j := i; j > 0 && r[j].Line < r[j-1].Line; j-- {
			r[j], r[j-1] = r[j-1], r[j]
		}
	}
}
