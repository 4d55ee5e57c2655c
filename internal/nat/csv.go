package nat

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"
)

// Uploads are read a line at a time with a small parser of our own rather
// than encoding/csv: a per-line report needs exact line numbers, and one
// broken line (a stray quote) must cost that line only, not the rest of a
// lab's file. Fields may be quoted ("a,b", "say ""hi""") but may not span
// lines: none of ours has a reason to.

// csvLine is one non-blank line of an upload.
type csvLine struct {
	num    int // 1-based line number in the file
	fields []string
	err    error
}

var (
	errQuote   = errors.New("a quote inside an unquoted field, or an unterminated quoted field")
	errNotUTF8 = errors.New("the line is not valid UTF-8")
)

// MaxUploadBytes bounds an upload body; MaxUploadLines its lines.
const (
	MaxUploadBytes = 16 << 20
	MaxUploadLines = 200_000
)

// readCSV splits body into lines of fields. A UTF-8 byte order mark (which
// spreadsheet programs write) is skipped; blank lines are skipped but
// counted, so line numbers match what an editor shows.
func readCSV(body []byte) []csvLine {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	var out []csvLine
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), MaxUploadBytes)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if !utf8.ValidString(line) {
			out = append(out, csvLine{num: n, err: errNotUTF8})
			continue
		}
		fields, err := splitCSV(line)
		out = append(out, csvLine{num: n, fields: fields, err: err})
	}
	if err := sc.Err(); err != nil {
		// Only a line longer than the whole upload limit gets here.
		out = append(out, csvLine{num: n + 1, err: err})
	}
	return out
}

// splitCSV splits one line on commas, honouring RFC 4180 quotes, and trims
// the white space around unquoted fields.
func splitCSV(line string) ([]string, error) {
	var fields []string
	i := 0
	for {
		// Skip leading spaces of the field.
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i < len(line) && line[i] == '"' {
			var b strings.Builder
			i++
			closed := false
			for i < len(line) {
				c := line[i]
				if c == '"' {
					if i+1 < len(line) && line[i+1] == '"' {
						b.WriteByte('"')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(c)
				i++
			}
			if !closed {
				return nil, errQuote
			}
			for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
				i++
			}
			fields = append(fields, b.String())
			if i == len(line) {
				return fields, nil
			}
			if line[i] != ',' {
				return nil, errQuote
			}
			i++
			continue
		}
		j := strings.IndexByte(line[i:], ',')
		var f string
		if j < 0 {
			f = line[i:]
		} else {
			f = line[i : i+j]
		}
		if strings.IndexByte(f, '"') >= 0 {
			return nil, errQuote
		}
		fields = append(fields, strings.TrimSpace(f))
		if j < 0 {
			return fields, nil
		}
		i += j + 1
	}
}

// header maps column names (with their aliases) to field positions. It
// returns nil when the line is not a header: no field is a known name.
func header(fields []string, aliases map[string]string) map[string]int {
	cols := map[string]int{}
	for i, f := range fields {
		if name, ok := aliases[strings.ToLower(strings.TrimSpace(f))]; ok {
			if _, dup := cols[name]; !dup {
				cols[name] = i
			}
		}
	}
	if len(cols) == 0 {
		return nil
	}
	return cols
}
