package checkin

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// The journal is how a single SQLite node keeps check-ins and verification
// events durable at a fraction of the cost of committing each group to the
// tables. A row of these tables enters three indexes, two of them at random
// places (by person, by place), and SQLite writes every page it changes to
// its WAL with two system calls: a group of ten scans cost about twenty
// pages, a third of a scan's server time. With the journal the group commit
// appends its batch to a file with one write and answers; an indexer moves
// what was appended into the tables every indexEvery in one transaction, in
// which the rows of a busy place or person share their pages.
//
// What a crash may lose is what it may lose without the journal: SQLite
// runs with synchronous=NORMAL, so a commit is in the operating system's
// page cache, not on the disk, when it is answered; an appended batch is in
// the same place. A killed process loses nothing (the next start moves what
// the journal holds beyond the tables' recorded position into the tables
// before serving); a power cut may lose the last moments of either.
//
// Reads of the tables flush the journal first, so every read sees every
// answered write.
//
// The file is a sequence of frames, one per batch: the payload's length
// and its CRC-32C (4 bytes each, little-endian), then the rows. A frame cut
// short by a power cut fails its length or checksum, and the journal is
// read up to the frame before it. Each index transaction records in
// checkin_journal the file (gen) and offset it has reached, so replaying
// after a crash neither skips nor repeats a frame.
type journal struct {
	db  *db.DB
	dir string
	w   *writer // prepared statements
	log *slog.Logger

	mu     sync.Mutex
	f      *os.File
	gen    int64
	size   int64
	opened time.Time // of the current file
	queue  []queued  // appended, not yet in the tables
	rows   int
	room   *sync.Cond // signalled when the queue shrinks or indexing fails
	failed error      // the last indexing failure, until one succeeds

	wake    chan struct{}
	flushes chan flushReq
	stop    chan struct{}
	done    chan struct{}
	closing sync.Once
}

// queued is an appended batch and the journal position after it.
type queued struct {
	batch    []*pending
	rows     int
	gen, end int64
}

const (
	// indexEvery is how often the indexer moves the journal into the
	// tables, and indexRows how many queued rows make it start early.
	indexEvery = 200 * time.Millisecond
	indexRows  = 20_000
	// maxQueued rows make the group commit wait for the indexer rather
	// than hold ever more in memory when the tables cannot keep up.
	maxQueued = 200_000
	// A fully indexed journal starts a new file (and removes the old) once
	// it holds rotateAt bytes or is rotateEvery old, so that rows do not
	// stay in a file long after the tables have them: purges and the
	// wind-down remove them from the tables, and a purge also turns the file over.
	rotateAt    = 64 << 20
	rotateEvery = 10 * time.Minute
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// JournalDir is where the journal of the SQLite database at path lives:
// beside it, so that the two move together.
func JournalDir(path string) string { return path + ".events" }

// journalName is the file of generation gen.
func journalName(gen int64) string { return fmt.Sprintf("events-%012d.log", gen) }

func parseJournalName(name string) (int64, bool) {
	s, ok := strings.CutPrefix(name, "events-")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".log")
	if !ok {
		return 0, false
	}
	gen, err := strconv.ParseInt(s, 10, 64)
	return gen, err == nil && gen >= 0
}

// openJournal replays what dir holds beyond the tables' recorded position,
// starts a new file and the indexer.
func openJournal(ctx context.Context, d *db.DB, dir string, w *writer, log *slog.Logger) (*journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("checkin: journal directory: %w", err)
	}
	j := &journal{db: d, dir: dir, w: w, log: log, wake: make(chan struct{}, 1), flushes: make(chan flushReq),
		stop: make(chan struct{}), done: make(chan struct{})}
	j.room = sync.NewCond(&j.mu)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("checkin: journal directory: %w", err)
	}
	var gens []int64
	for _, e := range entries {
		if gen, ok := parseJournalName(e.Name()); ok {
			gens = append(gens, gen)
		}
	}
	slices.Sort(gens)
	var atGen, atOff int64
	err = d.QueryRowContext(ctx, `SELECT gen, off FROM checkin_journal WHERE id = 1`).Scan(&atGen, &atOff)
	switch {
	case errors.Is(err, sql.ErrNoRows) && len(gens) > 0:
		// A database that never had a journal beside a journal: the
		// database was replaced. Its rows would name persons and places
		// of another database.
		return nil, fmt.Errorf("checkin: the journal in %s belongs to another database (this one has never used a journal); move it away", dir)
	case errors.Is(err, sql.ErrNoRows):
		if _, err := d.ExecContext(ctx, `INSERT INTO checkin_journal (id, gen, off) VALUES (1, 0, 0)`); err != nil {
			return nil, fmt.Errorf("checkin: journal position: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("checkin: journal position: %w", err)
	}
	next := atGen + 1
	for _, gen := range gens {
		next = max(next, gen+1)
		if gen < atGen {
			continue
		}
		from := int64(0)
		if gen == atGen {
			from = atOff
		}
		n, err := j.replay(ctx, gen, from)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			log.Info("check-ins and verifications moved from the journal after a stop", "file", journalName(gen), "rows", n)
		}
	}
	if err := j.startFile(ctx, next); err != nil {
		return nil, err
	}
	for _, gen := range gens {
		os.Remove(filepath.Join(dir, journalName(gen)))
	}
	go j.run()
	return j, nil
}

// replay moves the frames of file gen from offset from into the tables.
func (j *journal) replay(ctx context.Context, gen, from int64) (int, error) {
	data, err := os.ReadFile(filepath.Join(j.dir, journalName(gen)))
	if err != nil {
		return 0, fmt.Errorf("checkin: read journal: %w", err)
	}
	return j.replayBytes(ctx, data, gen, from)
}

// replayBytes moves the frames of data (file gen) from offset from into the
// tables, a chunk of frames a transaction, each recording how far it got.
func (j *journal) replayBytes(ctx context.Context, data []byte, gen, from int64) (int, error) {
	if from > int64(len(data)) {
		return 0, fmt.Errorf("checkin: journal %s is shorter (%d bytes) than the position recorded in the tables (%d)",
			journalName(gen), len(data), from)
	}
	off, total := from, 0
	var chunk []*pending
	rows := 0
	commit := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if err := j.write(ctx, chunk, gen, off); err != nil {
			return err
		}
		total += rows
		chunk, rows = chunk[:0], 0
		return nil
	}
	for off < int64(len(data)) {
		batch, n, err := decodeFrame(data[off:])
		if err != nil {
			// The tail a power cut left half written: nothing after it
			// was answered.
			j.log.Warn("check-in journal ends in an incomplete frame; it is left out", "file", journalName(gen),
				"offset", off, "bytes", int64(len(data))-off, "error", err)
			break
		}
		chunk = append(chunk, batch...)
		for _, p := range batch {
			rows += p.size()
		}
		off += int64(n)
		if rows >= indexRows {
			if err := commit(); err != nil {
				return total, err
			}
		}
	}
	return total, commit()
}

// ReadJournal reads the journal files in dir by generation, for a copy of
// the database taken while its node runs (a backup): read before the copy
// begins, they hold every check-in and verification answered by then.
func ReadJournal(dir string) (map[int64][]byte, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkin: journal directory: %w", err)
	}
	out := map[int64][]byte{}
	for _, e := range entries {
		gen, ok := parseJournalName(e.Name())
		if !ok {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // moved into the tables and removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("checkin: read journal: %w", err)
		}
		out[gen] = data
	}
	return out, nil
}

// ApplyJournal moves into d (a copy of a node's database) the rows of
// files (ReadJournal's, read before the copy began) that lie beyond the
// copy's recorded journal position. It returns the rows moved.
func ApplyJournal(ctx context.Context, d *db.DB, files map[int64][]byte) (int, error) {
	if len(files) == 0 {
		return 0, nil
	}
	var atGen, atOff int64
	err := d.QueryRowContext(ctx, `SELECT gen, off FROM checkin_journal WHERE id = 1`).Scan(&atGen, &atOff)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // never journalled
	}
	if err != nil {
		return 0, fmt.Errorf("checkin: journal position: %w", err)
	}
	j := &journal{db: d, log: slog.New(slog.DiscardHandler)}
	gens := slices.Sorted(maps.Keys(files))
	total := 0
	for _, gen := range gens {
		if gen < atGen {
			continue
		}
		from := int64(0)
		if gen == atGen {
			from = atOff
			if from >= int64(len(files[gen])) {
				// The node appended and indexed more of this file between
				// the read and the copy: the copy has every row read.
				continue
			}
		}
		n, err := j.replayBytes(ctx, files[gen], gen, from)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// startFile makes generation gen the file appends go to and records it as
// the position, so that the files before it are no longer needed. The
// switch comes first: an append between the two goes to the new file,
// which the position then covers.
func (j *journal) startFile(ctx context.Context, gen int64) error {
	j.mu.Lock()
	old, err := j.switchFile(gen)
	j.mu.Unlock()
	if err != nil {
		return err
	}
	return j.started(ctx, old, gen)
}

// started closes the file before generation gen and records the start of
// gen as the position.
func (j *journal) started(ctx context.Context, old *os.File, gen int64) error {
	if old != nil {
		old.Close()
	}
	if _, err := j.db.ExecContext(ctx, setPosition, gen, 0); err != nil {
		return fmt.Errorf("checkin: journal position: %w", err)
	}
	return nil
}

// setPosition records the journal file and offset the tables cover.
const setPosition = `UPDATE checkin_journal SET gen = $1, off = $2 WHERE id = 1`

// switchFile opens generation gen for appends; j.mu is held.
func (j *journal) switchFile(gen int64) (old *os.File, err error) {
	f, err := os.OpenFile(filepath.Join(j.dir, journalName(gen)), os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("checkin: create journal: %w", err)
	}
	old = j.f
	j.f, j.gen, j.size, j.opened = f, gen, 0, time.Now()
	return old, nil
}

// append writes batch as one frame and queues it for the indexer. A write
// that fails is cut off again, so the file holds whole frames only.
func (j *journal) append(batch []*pending) error {
	frame := encodeFrame(batch)
	rows := 0
	for _, p := range batch {
		rows += p.size()
	}
	j.mu.Lock()
	for j.rows >= maxQueued && j.failed == nil {
		j.room.Wait()
	}
	if j.failed != nil && j.rows >= maxQueued {
		err := j.failed
		j.mu.Unlock()
		return fmt.Errorf("checkin: the journal is full and cannot be moved into the tables: %w", err)
	}
	if _, err := j.f.Write(frame); err != nil {
		j.f.Truncate(j.size)
		j.mu.Unlock()
		return fmt.Errorf("checkin: append to journal: %w", err)
	}
	j.size += int64(len(frame))
	// The writer reuses its batch slice; the queue keeps its own.
	j.queue = append(j.queue, queued{batch: slices.Clone(batch), rows: rows, gen: j.gen, end: j.size})
	j.rows += rows
	start := j.rows >= indexRows
	j.mu.Unlock()
	if start {
		select {
		case j.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// run is the indexer.
func (j *journal) run() {
	defer close(j.done)
	t := time.NewTicker(indexEvery)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			if err := j.indexAll(false); err != nil {
				j.log.Error("check-ins and verifications left in the journal at shutdown; the next start moves them", "error", err)
			}
			return
		case f := <-j.flushes:
			// Reads that ask at the same time share one transaction.
			waiting := []flushReq{f}
		more:
			for {
				select {
				case g := <-j.flushes:
					waiting = append(waiting, g)
				default:
					break more
				}
			}
			rotate := false
			for _, w := range waiting {
				rotate = rotate || w.rotate
			}
			err := j.indexAll(rotate)
			for _, w := range waiting {
				w.done <- err
			}
		case <-t.C:
			j.indexLogged()
		case <-j.wake:
			j.indexLogged()
		}
	}
}

func (j *journal) indexLogged() {
	if err := j.index(false); err != nil {
		j.log.Error("moving check-ins and verifications from the journal into the tables failed; retrying", "error", err)
	}
}

// indexAll moves everything queued; with force it then turns the file
// over.
func (j *journal) indexAll(force bool) error {
	for {
		j.mu.Lock()
		empty := len(j.queue) == 0
		j.mu.Unlock()
		if empty {
			return j.rotate(force)
		}
		if err := j.index(false); err != nil {
			return err
		}
	}
}

// index moves up to indexRows (at least one batch) of the queue into the
// tables in one transaction. Once the queue is empty it turns the file
// over if it is large or old, or if force.
func (j *journal) index(force bool) error {
	j.mu.Lock()
	n, rows := 0, 0
	for n < len(j.queue) && (n == 0 || rows+j.queue[n].rows <= indexRows) {
		rows += j.queue[n].rows
		n++
	}
	take := j.queue[:n:n]
	j.mu.Unlock()
	if n == 0 {
		return j.rotate(force)
	}
	var batch []*pending
	for _, q := range take {
		batch = append(batch, q.batch...)
	}
	last := take[n-1]
	err := j.write(context.Background(), batch, last.gen, last.end)
	j.mu.Lock()
	if err != nil {
		j.failed = err
		j.room.Broadcast()
		j.mu.Unlock()
		return err
	}
	j.failed = nil
	j.queue = slices.Delete(j.queue, 0, n)
	j.rows -= rows
	j.room.Broadcast()
	j.mu.Unlock()
	return j.rotate(force)
}

// rotate starts a new file once everything in the current one is in the
// tables and it is large or old, or if force.
func (j *journal) rotate(force bool) error {
	j.mu.Lock()
	if len(j.queue) > 0 || j.size == 0 || (!force && j.size < rotateAt && time.Since(j.opened) < rotateEvery) {
		j.mu.Unlock()
		return nil
	}
	// Everything in the file is in the tables: start a new one.
	oldGen := j.gen
	old, err := j.switchFile(oldGen + 1)
	j.mu.Unlock()
	if err != nil {
		return err
	}
	if err := j.started(context.Background(), old, oldGen+1); err != nil {
		return err
	}
	os.Remove(filepath.Join(j.dir, journalName(oldGen)))
	return nil
}

// write inserts batch and records the journal position gen/end in one
// transaction.
func (j *journal) write(ctx context.Context, batch []*pending, gen, end int64) error {
	stmts := plan(j.db.Engine(), batch)
	prepared := make([]*sql.Stmt, len(stmts))
	if j.w != nil {
		prepared = j.w.prepared(ctx, stmts)
	}
	return j.db.InTx(ctx, func(tx db.Tx) error {
		// The transaction runs for tens of milliseconds of Go (SQLite
		// is transpiled, not called through cgo) on one of the process's
		// two Ps. The handlers the group commit readies land on that P's
		// run queue, and unless the other P, busy serving, steals them
		// they wait for the scheduler to preempt the indexer after 10 ms:
		// that was the p99 of verify on SQLite (11-18 ms against the bare
		// handler's 7-11 in the same runs). Yielding between statements
		// lets them run after each 64-row INSERT.
		if err := execAll(ctx, tx, stmts, prepared, true); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, setPosition, gen, end); err != nil {
			return fmt.Errorf("checkin: journal position: %w", err)
		}
		return nil
	})
}

// flushReq asks the indexer to move everything queued, and with rotate to
// turn the file over afterwards.
type flushReq struct {
	rotate bool
	done   chan error
}

// flush returns once everything appended before the call is in the tables;
// with rotate the file that held them is removed too.
func (j *journal) flush(ctx context.Context, rotate bool) error {
	f := flushReq{rotate: rotate, done: make(chan error, 1)}
	select {
	case j.flushes <- f:
	case <-j.done:
		return nil // closed: indexed at shutdown
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-f.done:
		if err != nil {
			return fmt.Errorf("checkin: move the journal into the tables: %w", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close indexes what is queued and closes the file, once. The writer has
// stopped appending.
func (j *journal) close() {
	j.closing.Do(func() {
		close(j.stop)
		<-j.done
		j.mu.Lock()
		defer j.mu.Unlock()
		j.f.Close()
	})
}

// Rows are encoded as a kind byte and their fields, integers as varints,
// strings as a length and their bytes.
const (
	recCheckin      = 'c'
	recVerification = 'v'
	frameHeader     = 8
	// maxFrame bounds a frame's payload: a batch holds at most the
	// writer's maximum of rows, each well under 1 KiB.
	maxFrame = 64 << 20
)

func encodeFrame(batch []*pending) []byte {
	buf := make([]byte, frameHeader, frameHeader+64*len(batch))
	for _, p := range batch {
		for _, r := range p.checkins {
			buf = append(buf, recCheckin)
			buf = binary.AppendVarint(buf, r.place)
			buf = binary.AppendVarint(buf, r.at)
			buf = binary.AppendVarint(buf, r.person)
		}
		if v := p.verif; v != nil {
			buf = append(buf, recVerification)
			buf = binary.AppendVarint(buf, v.at)
			buf = binary.AppendVarint(buf, v.place)
			buf = binary.AppendVarint(buf, v.person)
			buf = appendString(buf, v.keyID)
			valid := byte(0)
			if v.valid {
				valid = 1
			}
			buf = append(buf, valid)
			buf = appendString(buf, v.reason)
			buf = binary.AppendVarint(buf, v.color)
			buf = appendString(buf, v.kind)
		}
	}
	binary.LittleEndian.PutUint32(buf[0:4], uint32(len(buf)-frameHeader))
	binary.LittleEndian.PutUint32(buf[4:8], crc32.Checksum(buf[frameHeader:], crcTable))
	return buf
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

var errFrame = errors.New("checkin: malformed journal frame")

// decodeFrame reads the frame at the start of data: its rows, one pending
// per row, and the frame's length.
func decodeFrame(data []byte) ([]*pending, int, error) {
	if len(data) < frameHeader {
		return nil, 0, fmt.Errorf("%w: %d bytes, shorter than a header", errFrame, len(data))
	}
	n := binary.LittleEndian.Uint32(data[0:4])
	if n > maxFrame || int(n) > len(data)-frameHeader {
		return nil, 0, fmt.Errorf("%w: payload of %d bytes, %d remain", errFrame, n, len(data)-frameHeader)
	}
	payload := data[frameHeader : frameHeader+int(n)]
	if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(data[4:8]) {
		return nil, 0, fmt.Errorf("%w: checksum", errFrame)
	}
	r := &frameReader{b: payload}
	var out []*pending
	for len(r.b) > 0 && r.err == nil {
		switch kind := r.byte(); kind {
		case recCheckin:
			c := row{place: r.varint(), at: r.varint(), person: r.varint()}
			out = append(out, &pending{checkins: []row{c}})
		case recVerification:
			v := &verRow{at: r.varint(), place: r.varint(), person: r.varint(), keyID: r.string()}
			v.valid = r.byte() == 1
			v.reason, v.color, v.kind = r.string(), r.varint(), r.string()
			out = append(out, &pending{verif: v})
		default:
			if r.err == nil {
				r.err = fmt.Errorf("%w: row kind %d", errFrame, kind)
			}
		}
	}
	if r.err != nil {
		return nil, 0, r.err
	}
	return out, frameHeader + int(n), nil
}

// frameReader decodes a payload; the first error sticks.
type frameReader struct {
	b   []byte
	err error
}

func (r *frameReader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %w", errFrame, io.ErrUnexpectedEOF)
	}
	r.b = nil
}

func (r *frameReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *frameReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *frameReader) string() string {
	l, n := binary.Uvarint(r.b)
	if n <= 0 || l > uint64(len(r.b)-n) {
		r.fail()
		return ""
	}
	s := string(r.b[n : n+int(l)])
	r.b = r.b[n+int(l):]
	return s
}
