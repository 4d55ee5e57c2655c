package grid

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/status"
)

// Kinds of import.
const (
	Residents = "residents" // the registered population by town, community, grid and household
	Cases     = "cases"     // confirmed cases: case.confirmed facts
	Contacts  = "contacts"  // close contacts: contact.close facts
	Arrivals  = "arrivals"  // arrivals from elsewhere: arrival.inbound facts
)

// Kinds lists the kinds; Sources the bureaus a list comes from.
var (
	Kinds   = []string{Residents, Cases, Contacts, Arrivals}
	Sources = []string{"census", "police", "health", "transport", "telecom"}
)

// MaxBytes bounds a file: a million lines of a population list.
const MaxBytes = 256 << 20

// batch is how many lines one transaction writes.
const batch = 1000

// maxErrors is how many faulty lines the report keeps; the counts cover all.
const maxErrors = 1000

// Import statuses.
const (
	Running = "running"
	Done    = "done"
	Failed  = "failed"
)

// LineError is one faulty line: its number (the header is line 1), the
// error code and message.
type LineError struct {
	Line    int    `json:"line"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Import is one import, running or finished.
type Import struct {
	ID         string
	Kind       string
	Source     string
	Region     string
	FileName   string
	Encoding   string
	Status     string
	Lines      int64 // lines after the header
	Done       int64 // lines handled so far
	Good       int64
	Bad        int64
	Created    int64 // persons registered (residents) or facts recorded (lists)
	Errors     []LineError
	CreatedBy  string
	CreatedAt  time.Time
	FinishedAt *time.Time
}

// Spec says what a file is.
type Spec struct {
	Kind     string
	Source   string
	FileName string
}

// decode turns the file into UTF-8 text: UTF-8 (with or without a BOM) as
// it is, anything else read as GBK (GB 18030's two-byte part, what Excel
// saves on a Chinese Windows). A file that is neither is refused with the
// line of its first undecodable byte.
func decode(data []byte) (string, string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return string(data), "utf-8", nil
	}
	out, err := simplifiedchinese.GBK.NewDecoder().Bytes(data)
	if err == nil && !bytes.ContainsRune(out, utf8.RuneError) {
		return string(out), "gbk", nil
	}
	line := 1 + bytes.Count(data[:firstInvalid(data)], []byte("\n"))
	return "", "", ErrEncodingInvalid.Withf("line %d is neither UTF-8 nor GBK text", line)
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// columns of each kind: the names a header may use (English, then the
// Chinese a bureau's spreadsheet has), and which are required.
type column struct {
	names    []string
	required bool
}

var columns = map[string]map[string]column{
	Residents: {
		"town": {[]string{"town", "乡镇街道", "街道"}, true}, "community": {[]string{"community", "社区编号"}, true},
		"community_name": {[]string{"community_name", "社区"}, false}, "grid": {[]string{"grid", "网格编号"}, true},
		"grid_name": {[]string{"grid_name", "网格"}, false}, "household": {[]string{"household", "户号"}, true},
		"name": {[]string{"name", "姓名"}, true}, "id_type": {[]string{"id_type", "证件类型"}, false},
		"id_number": {[]string{"id_number", "证件号码", "身份证号"}, true}, "phone": {[]string{"phone", "手机号", "联系电话"}, false},
	},
	Cases: {
		"id_type": {[]string{"id_type", "证件类型"}, false}, "id_number": {[]string{"id_number", "证件号码", "身份证号"}, true},
		"at": {[]string{"at", "确诊时间"}, true}, "case_id": {[]string{"case_id", "病例编号"}, true},
		"severity": {[]string{"severity", "临床分型"}, false}, "hospital": {[]string{"hospital", "收治机构"}, false},
	},
	Contacts: {
		"id_type": {[]string{"id_type", "证件类型"}, false}, "id_number": {[]string{"id_number", "证件号码", "身份证号"}, true},
		"at": {[]string{"at", "末次接触时间"}, true}, "case_id": {[]string{"case_id", "关联病例"}, false},
	},
	Arrivals: {
		"id_type": {[]string{"id_type", "证件类型"}, false}, "id_number": {[]string{"id_number", "证件号码", "身份证号"}, true},
		"at": {[]string{"at", "抵达时间"}, true}, "origin": {[]string{"origin", "出发地"}, true},
		"transport": {[]string{"transport", "交通方式"}, false}, "port": {[]string{"port", "抵达站点"}, false},
	},
}

// header maps each column to its index in the file.
func header(kind string, names []string) (map[string]int, error) {
	idx := map[string]int{}
	for i, n := range names {
		n = strings.TrimSpace(n)
		for col, c := range columns[kind] {
			for _, alias := range c.names {
				if strings.EqualFold(n, alias) {
					idx[col] = i
				}
			}
		}
	}
	for col, c := range columns[kind] {
		if _, ok := idx[col]; c.required && !ok {
			return nil, ErrHeaderInvalid.Withf("the header lacks the column %s (%s)", col, strings.Join(c.names[1:], "/"))
		}
	}
	return idx, nil
}

type row struct {
	line   int
	fields []string
	idx    map[string]int
}

func (r row) get(col string) string {
	i, ok := r.idx[col]
	if !ok || i >= len(r.fields) {
		return ""
	}
	return strings.TrimSpace(r.fields[i])
}

// Import reads a file and writes it, a batch at a time, calling progress
// after each batch; it returns the finished import with its report.
// Faulty lines are reported and skipped; the good ones are kept.
// Importing the same file again changes nothing: persons are matched by
// identity number, households and memberships are upserted and facts are
// keyed by their line.
func (s *Service) Import(ctx context.Context, by *auth.Principal, spec Spec, data []byte, progress func(*Import)) (*Import, error) {
	imp, text, err := s.begin(ctx, by, spec, data)
	if err != nil {
		return nil, err
	}
	s.run(ctx, by, imp, text, progress)
	return imp, nil
}

// Start is Import in the background: it checks the file, records the
// import and returns it at once; Get follows its progress.
func (s *Service) Start(ctx context.Context, by *auth.Principal, spec Spec, data []byte) (*Import, error) {
	imp, text, err := s.begin(ctx, by, spec, data)
	if err != nil {
		return nil, err
	}
	cp := *imp
	go s.run(context.WithoutCancel(ctx), by, imp, text, nil)
	return &cp, nil
}

func (s *Service) begin(ctx context.Context, by *auth.Principal, spec Spec, data []byte) (*Import, string, error) {
	if err := by.Require(auth.ImportWrite); err != nil {
		return nil, "", err
	}
	need := auth.FactWrite
	if spec.Kind == Residents {
		need = auth.PersonWrite
	}
	if err := by.Require(need); err != nil {
		return nil, "", err
	}
	if !contains(Kinds, spec.Kind) {
		return nil, "", ErrKindInvalid
	}
	if spec.Source == "" {
		spec.Source = map[bool]string{true: "census", false: "health"}[spec.Kind == Residents]
	}
	if !contains(Sources, spec.Source) {
		return nil, "", ErrSourceInvalid
	}
	if len(data) > MaxBytes {
		return nil, "", ErrTooLarge.Withf("the file has %d MB; an import takes at most %d MB", len(data)>>20, MaxBytes>>20)
	}
	text, enc, err := decode(data)
	if err != nil {
		return nil, "", err
	}
	names, err := csv.NewReader(strings.NewReader(text)).Read()
	if err != nil {
		return nil, "", ErrHeaderInvalid.Withf("the first line is not a CSV header: %v", errors.Unwrap(err))
	}
	if _, err := header(spec.Kind, names); err != nil {
		return nil, "", err
	}
	lines := int64(strings.Count(strings.TrimRight(text, "\r\n"), "\n"))
	if lines == 0 {
		return nil, "", ErrEmpty
	}
	name := strings.TrimSpace(spec.FileName)
	if r := []rune(name); len(r) > 128 {
		name = string(r[:128])
	}
	now := s.now()
	imp := &Import{ID: ids.New(), Kind: spec.Kind, Source: spec.Source, Region: by.Region, FileName: name, Encoding: enc,
		Status: Running, Lines: lines, Errors: []LineError{}, CreatedBy: by.Actor(), CreatedAt: now}
	_, err = s.db.ExecContext(ctx, `INSERT INTO imports (id, kind, source, region_code, file_name, encoding, status, lines, good, bad,
		created, errors, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, 0, '[]', $9, $10)`,
		imp.ID, imp.Kind, imp.Source, imp.Region, imp.FileName, imp.Encoding, imp.Status, imp.Lines, imp.CreatedBy, now.UnixMilli())
	if err != nil {
		return nil, "", fmt.Errorf("grid: record import: %w", err)
	}
	return imp, text, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// run reads the lines and writes them a batch at a time. A batch that
// fails as a whole (the store, not a line) ends the import as failed;
// the batches before it stay written.
func (s *Service) run(ctx context.Context, by *auth.Principal, imp *Import, text string, progress func(*Import)) {
	err := s.readAll(ctx, by, imp, text, progress)
	imp.Status = Done
	if err != nil {
		imp.Status = Failed
		e, ok := apierr.As(err)
		if !ok {
			e = ErrStopped
		}
		imp.addError(LineError{Line: 0, Code: e.Code, Message: e.Message})
	}
	// A batch reports its lines after the malformed ones read meanwhile.
	slices.SortStableFunc(imp.Errors, func(a, b LineError) int { return cmp.Compare(a.Line, b.Line) })
	at := s.now()
	imp.FinishedAt = &at
	if err := s.save(context.WithoutCancel(ctx), imp); err != nil {
		imp.Status = Failed
	}
	_ = audit.Record(context.WithoutCancel(ctx), s.db, audit.Entry{At: at, Actor: by.Actor(), Action: "import." + imp.Kind,
		Subject: "import:" + imp.ID, Region: imp.Region, Detail: map[string]any{"lines": imp.Lines, "good": imp.Good,
			"bad": imp.Bad, "created": imp.Created, "source": imp.Source}})
	if progress != nil {
		progress(imp)
	}
}

func (imp *Import) addError(e LineError) {
	if len(imp.Errors) < maxErrors {
		imp.Errors = append(imp.Errors, e)
	}
}

func (imp *Import) bad(line int, err error) {
	imp.Bad++
	e, ok := apierr.As(err)
	if !ok {
		e = ErrLineInvalid
	}
	imp.addError(LineError{Line: line, Code: e.Code, Message: e.Message})
}

func (s *Service) save(ctx context.Context, imp *Import) error {
	raw, _ := json.Marshal(imp.Errors)
	var fin sql.NullInt64
	if imp.FinishedAt != nil {
		fin = sql.NullInt64{Int64: imp.FinishedAt.UnixMilli(), Valid: true}
	}
	_, err := s.db.ExecContext(ctx, `UPDATE imports SET status = $1, good = $2, bad = $3, created = $4, errors = $5, finished_at = $6
		WHERE id = $7`, imp.Status, imp.Good, imp.Bad, imp.Created, string(raw), fin, imp.ID)
	if err != nil {
		return fmt.Errorf("grid: save import: %w", err)
	}
	return nil
}

func (s *Service) readAll(ctx context.Context, by *auth.Principal, imp *Import, text string, progress func(*Import)) error {
	rd := csv.NewReader(strings.NewReader(text))
	rd.FieldsPerRecord = -1
	rd.ReuseRecord = false
	names, err := rd.Read()
	if err != nil {
		return ErrHeaderInvalid.Withf("the first line is not a CSV header: %v", err)
	}
	idx, err := header(imp.Kind, names)
	if err != nil {
		return err
	}
	seen := map[string]int{} // identity number key -> first line
	var rows []row
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		var err error
		if imp.Kind == Residents {
			err = s.residents(ctx, by, imp, rows, seen)
		} else {
			err = s.list(ctx, by, imp, rows, seen)
		}
		imp.Done += int64(len(rows))
		rows = rows[:0]
		if err != nil {
			return err
		}
		if err := s.save(ctx, imp); err != nil {
			return err
		}
		if progress != nil {
			progress(imp)
		}
		return nil
	}
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// FieldPos knows only a record that was read: a malformed one
			// names its line in the error.
			var line int
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			imp.bad(line, ErrLineMalformed.Withf("line %d is not a well-formed CSV row: %v", line, errors.Unwrap(err)))
			imp.Done++
			continue
		}
		line, _ := rd.FieldPos(0)
		rows = append(rows, row{line: line, fields: rec, idx: idx})
		if len(rows) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// dup reports an identity number seen on an earlier line.
func dup(seen map[string]int, key string, line int) error {
	if first, ok := seen[key]; ok {
		return ErrIDDuplicate.Withf("line %d repeats the identity number of line %d", line, first)
	}
	seen[key] = line
	return nil
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

type resident struct {
	line      int
	grid      string
	gridName  string
	comm      string
	commName  string
	town      string
	household string
	checked   person.Checked
}

func (s *Service) residents(ctx context.Context, by *auth.Principal, imp *Import, rows []row, seen map[string]int) error {
	var good []resident
	for _, r := range rows {
		x, err := s.checkResident(by, r)
		if err == nil {
			err = dup(seen, x.checked.Key(), r.line)
		}
		if err != nil {
			imp.bad(r.line, err)
			continue
		}
		good = append(good, x)
	}
	if len(good) == 0 {
		return nil
	}
	at := s.now().UnixMilli()
	var created int
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		cs := make([]person.Checked, len(good))
		for i, x := range good {
			cs[i] = x.checked
		}
		nums, n, err := s.persons.Ensure(ctx, tx, by, cs)
		if err != nil {
			return err
		}
		created = n
		grids := map[string]resident{}
		holds := map[string]resident{}
		for _, x := range good {
			if g, ok := grids[x.grid]; !ok || g.gridName == "" && x.gridName != "" {
				grids[x.grid] = x
			}
			holds[x.grid+"/"+x.household] = x
		}
		// Grids, households and members are written in the order of their
		// keys: two imports of the same residents (two offices' lists, a
		// list imported again beside the first) otherwise each took some of
		// the rows the other waited for, in a map's order or the file's,
		// and PostgreSQL ended one of them as a deadlock.
		gargs := make([]any, 0, 6*len(grids))
		for _, code := range slices.Sorted(maps.Keys(grids)) {
			x := grids[code]
			gname := x.gridName
			if gname == "" {
				gname = "第" + strings.TrimLeft(x.grid[12:], "0") + "网格"
			}
			cname := x.commName
			if cname == "" {
				cname = "社区" + x.comm[9:]
			}
			gargs = append(gargs, code, gname, x.comm, cname, x.town, at)
		}
		if _, err := insertGrids.Exec(ctx, tx, s.db.Engine(), gargs); err != nil {
			return fmt.Errorf("grid: grids: %w", err)
		}
		hargs := make([]any, 0, 4*len(holds))
		for _, id := range slices.Sorted(maps.Keys(holds)) {
			x := holds[id]
			hargs = append(hargs, id, x.grid, x.household, at)
		}
		if _, err := insertHouseholds.Exec(ctx, tx, s.db.Engine(), hargs); err != nil {
			return fmt.Errorf("grid: households: %w", err)
		}
		order := make([]int, len(good))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(i, j int) int { return cmp.Compare(nums[i], nums[j]) })
		margs := make([]any, 0, 4*len(good))
		for _, i := range order {
			x := good[i]
			margs = append(margs, nums[i], x.grid, x.grid+"/"+x.household, at)
		}
		if _, err := upsertMembers.Exec(ctx, tx, s.db.Engine(), margs); err != nil {
			return fmt.Errorf("grid: members: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	imp.Good += int64(len(good))
	imp.Created += int64(created)
	return nil
}

var (
	insertGrids = db.Insert{Head: `INSERT INTO grids (code, name, community_code, community_name, town_code, created_at) VALUES `, Cols: 6,
		Tail: ` ON CONFLICT (code) DO UPDATE SET name = excluded.name, community_name = excluded.community_name`}
	insertHouseholds = db.Insert{Head: `INSERT INTO households (id, grid_code, label, created_at) VALUES `, Cols: 4,
		Tail: ` ON CONFLICT (id) DO NOTHING`}
	upsertMembers = db.Insert{Head: `INSERT INTO grid_members (person_num, grid_code, household_id, imported_at) VALUES `, Cols: 4,
		Tail: ` ON CONFLICT (person_num) DO UPDATE SET grid_code = excluded.grid_code, household_id = excluded.household_id`}
)

func (s *Service) checkResident(by *auth.Principal, r row) (resident, error) {
	x := resident{line: r.line, town: r.get("town"), comm: r.get("community"), household: r.get("household"),
		commName: r.get("community_name"), gridName: r.get("grid_name")}
	if region.LevelOf(x.town) != region.Street {
		return x, ErrTownInvalid.Withf("town %q is not the 9-digit code of a town or street", truncate(x.town))
	}
	if err := s.regions.Validate(x.town); err != nil {
		return x, err
	}
	if !digits(x.comm, 3) {
		return x, ErrCommunityCode.Withf("community %q must be 3 digits", truncate(x.comm))
	}
	g := r.get("grid")
	if !digits(g, 3) {
		return x, ErrGridCode.Withf("grid %q must be 3 digits", truncate(g))
	}
	if n := utf8.RuneCountInString(x.household); n == 0 || n > 32 {
		return x, ErrHouseholdMissing
	}
	x.comm = x.town + x.comm
	x.grid = x.comm + g
	for _, n := range []*string{&x.commName, &x.gridName} {
		if r := []rune(*n); len(r) > 64 {
			*n = string(r[:64])
		}
	}
	if !by.InScope(x.grid) {
		return x, auth.ErrOutOfScope.Withf("town %s is outside your scope %s", x.town, by.Region)
	}
	idType := r.get("id_type")
	if idType == "" {
		idType = "resident_id"
	}
	c, err := s.persons.Check(by, person.Input{Name: r.get("name"), IDType: idType, IDNumber: r.get("id_number"),
		Phone: r.get("phone"), Region: x.town})
	if err != nil {
		return x, err
	}
	x.checked = c
	return x, nil
}

func truncate(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if r := []rune(s); len(r) > 20 {
		return string(r[:20]) + "…"
	}
	return s
}

// parseAt reads a list's time: RFC 3339, or a local "2006-01-02 15:04",
// "2006-01-02 15:04:05", "2006/01/02 15:04" or a date.
func (s *Service) parseAt(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006/01/02 15:04", "2006/1/2 15:04", "2006-01-02", "2006/01/02"} {
		if t, err := time.ParseInLocation(layout, v, s.loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, ErrTimeInvalid.Withf("at %q is not a time such as 2022-04-01 10:00", truncate(v))
}

type listLine struct {
	line int
	key  string
	f    fact.Fact
	hash string
}

// list turns a batch of a case, contact or arrival list into facts about
// the persons it names, matched by identity number.
func (s *Service) list(ctx context.Context, by *auth.Principal, imp *Import, rows []row, seen map[string]int) error {
	now := s.now()
	var good []listLine
	for _, r := range rows {
		l, err := s.checkLine(imp, r, now)
		if err == nil {
			err = dup(seen, l.key, r.line)
		}
		if err != nil {
			imp.bad(r.line, err)
			continue
		}
		good = append(good, l)
	}
	if len(good) == 0 {
		return nil
	}
	keys := make([]string, len(good))
	for i, l := range good {
		keys[i] = l.key
	}
	found, err := s.persons.Match(ctx, s.db, keys)
	if err != nil {
		return err
	}
	var facts []status.NewFact
	var lines int64
	for _, l := range good {
		num, ok := found[l.key]
		if !ok {
			imp.bad(l.line, person.ErrNotFound.Withf("line %d: nobody with this identity number is registered or in the population", l.line))
			continue
		}
		p, err := s.persons.Get(ctx, num)
		if err != nil {
			return err
		}
		if !by.InScope(p.Region) {
			imp.bad(l.line, person.ErrNotFound.Withf("line %d: nobody with this identity number is in your scope", l.line))
			continue
		}
		facts = append(facts, status.NewFact{Person: num, Fact: l.f, RecordedBy: by.Actor(), Key: "import:" + imp.Kind + ":" + l.hash})
		lines++
	}
	if len(facts) == 0 {
		return nil
	}
	n, err := s.facts.Record(ctx, facts...)
	if err != nil {
		return err
	}
	imp.Good += lines
	imp.Created += int64(n)
	return nil
}

func (s *Service) checkLine(imp *Import, r row, now time.Time) (listLine, error) {
	l := listLine{line: r.line}
	key, err := s.persons.ParseID(r.get("id_type"), r.get("id_number"))
	if err != nil {
		return l, err
	}
	l.key = key
	at, err := s.parseAt(r.get("at"))
	if err != nil {
		return l, err
	}
	attrs := map[string]any{}
	set := func(col, attr string) {
		if v := r.get(col); v != "" {
			attrs[attr] = v
		}
	}
	var kind string
	switch imp.Kind {
	case Cases:
		kind = fact.CaseConfirmed
		if r.get("case_id") == "" {
			return l, ErrCaseIDMissing
		}
		set("case_id", "case_id")
		set("severity", "severity")
		set("hospital", "hospital")
	case Contacts:
		kind = fact.ContactClose
	case Arrivals:
		kind = fact.ArrivalInbound
		set("origin", "origin")
		set("transport", "transport")
		set("port", "port")
	}
	if err := fact.ValidateAt(kind, at, time.Time{}, attrs, now); err != nil {
		return l, err
	}
	sum := sha256.Sum256([]byte(imp.Source + "\x00" + key + "\x00" + at.UTC().Format(time.RFC3339) + "\x00" + r.get("case_id") + r.get("origin")))
	l.f = fact.Fact{Kind: kind, At: at, Attrs: attrs, Source: "import:" + imp.Source}
	l.hash = hex.EncodeToString(sum[:12])
	return l, nil
}

// Get returns an import in by's scope, with its progress or report.
func (s *Service) Get(ctx context.Context, by *auth.Principal, id string) (*Import, error) {
	if err := by.Require(auth.ImportWrite); err != nil {
		return nil, err
	}
	out, err := s.imports(ctx, `WHERE id = $1`, []any{id})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 || !by.InScope(out[0].Region) {
		return nil, ErrImportNotFound
	}
	return out[0], nil
}

// Imports lists the last 50 imports in by's scope, newest first.
func (s *Service) Imports(ctx context.Context, by *auth.Principal) ([]*Import, error) {
	if err := by.Require(auth.ImportWrite); err != nil {
		return nil, err
	}
	lo, hi := by.Bounds()
	scope, args := db.Scope("region_code", lo, hi, nil)
	return s.imports(ctx, `WHERE `+scope+` ORDER BY created_at DESC LIMIT 50`, args)
}

func (s *Service) imports(ctx context.Context, where string, args []any) ([]*Import, error) {
	out, err := db.Collect(ctx, s.db, `SELECT id, kind, source, region_code, file_name, encoding, status, lines, good, bad, created,
			errors, created_by, created_at, finished_at FROM imports `+where, args, func(sc db.Scanner) (*Import, error) {
		var imp Import
		var raw string
		var created int64
		var fin sql.NullInt64
		if err := sc.Scan(&imp.ID, &imp.Kind, &imp.Source, &imp.Region, &imp.FileName, &imp.Encoding, &imp.Status, &imp.Lines,
			&imp.Good, &imp.Bad, &imp.Created, &raw, &imp.CreatedBy, &created, &fin); err != nil {
			return nil, err
		}
		imp.Done = imp.Good + imp.Bad
		imp.CreatedAt = db.Time(created).In(s.loc)
		if fin.Valid {
			t := db.Time(fin.Int64).In(s.loc)
			imp.FinishedAt = &t
			imp.Done = imp.Lines
		}
		imp.Errors = []LineError{}
		_ = json.Unmarshal([]byte(raw), &imp.Errors)
		return &imp, nil
	})
	if err != nil {
		return nil, fmt.Errorf("grid: read imports: %w", err)
	}
	return out, nil
}
