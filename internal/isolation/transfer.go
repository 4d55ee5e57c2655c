package isolation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
)

// Steps of a transfer, in the only order they happen.
const (
	Dispatched = "dispatched" // a vehicle is sent for the person
	PickedUp   = "picked_up"  // the person is in the vehicle
	Arrived    = "arrived"    // handed over at the designated hospital or site
)

// TransferSteps lists them in order.
var TransferSteps = []string{Dispatched, PickedUp, Arrived}

// Transfer is the transfer of a positive person to a designated hospital
// or site, with its trail.
type Transfer struct {
	ID, PersonID, MaskedName string
	Person                   int64
	Region                   string // the destination's
	Origin, Vehicle          string
	Dest, DestName, DestKind string
	State                    string // the last step
	CreatedAt                time.Time
	Trail                    []Step
}

// Step is one time-stamped step of a trail.
type Step struct {
	Step string
	At   time.Time
	By   string // the actor
	Note string
}

// TransferInput dispatches a transfer.
type TransferInput struct {
	Identity
	Origin  string // where the person is picked up
	Dest    string // the designated hospital or site
	Vehicle string
	Note    string
	At      time.Time // zero: now
}

// Dispatch starts a transfer to a site in the operator's scope: the first
// step of its trail. A person with a transfer under way: 409.
func (s *Service) Dispatch(ctx context.Context, by *auth.Principal, in TransferInput) (*Transfer, error) {
	if err := by.Require(auth.IsolationWrite); err != nil {
		return nil, err
	}
	dest, err := s.site(ctx, s.db, by, in.Dest)
	if err != nil {
		return nil, err
	}
	origin, vehicle := strings.TrimSpace(in.Origin), strings.TrimSpace(in.Vehicle)
	if _, err := idnum.CleanText("origin", origin+vehicle); err != nil || origin == "" || vehicle == "" ||
		utf8.RuneCountInString(origin) > 200 || utf8.RuneCountInString(vehicle) > 50 {
		return nil, ErrTransferInvalid
	}
	note, err := checkNote(in.Note)
	if err != nil {
		return nil, err
	}
	at, err := s.checkTime(in.At)
	if err != nil {
		return nil, err
	}
	p, method, err := s.identify(ctx, by, in.Identity)
	if err != nil {
		return nil, err
	}
	t := &Transfer{ID: ids.New(), PersonID: p.ID, Person: p.Num, MaskedName: idnum.MaskName(p.Name), Region: dest.Region, Origin: origin,
		Vehicle: vehicle, Dest: dest.ID, DestName: dest.Name, DestKind: dest.Kind, State: Dispatched, CreatedAt: at,
		Trail: []Step{{Step: Dispatched, At: at, By: by.Actor(), Note: note}}}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var open string
		switch err := tx.QueryRowContext(ctx, `SELECT id FROM iso_transfers WHERE person_num = $1 AND state <> $2`, p.Num, Arrived).Scan(&open); {
		case err == nil:
			return ErrTransferOpen.Withf("%s already has transfer %s under way", t.MaskedName, open)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO iso_transfers (id, person_num, masked_name, region_code, origin, dest_site_id, vehicle,
			state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, t.ID, p.Num, t.MaskedName, t.Region, origin, dest.ID, vehicle,
			Dispatched, at.UnixMilli()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO iso_transfer_steps (transfer_id, step, at, by_actor, note) VALUES ($1, $2, $3, $4, $5)`,
			t.ID, Dispatched, at.UnixMilli(), by.Actor(), note); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: s.clock(), Actor: by.Actor(), Action: "transfer.dispatch", Subject: "person:" + p.ID,
			Region: t.Region, Detail: map[string]any{"transfer": t.ID, "dest": dest.ID, "method": method}})
		return err
	})
	if err != nil {
		if _, ok := apierr.As(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("isolation: dispatch: %w", err)
	}
	return t, nil
}

// StepInput is a later step of a transfer.
type StepInput struct {
	Note string
	At   time.Time // zero: now
}

// Advance records the next step of a transfer (picked_up after dispatched,
// arrived after picked_up) at a time not before the previous one. A step
// out of order (again, skipped, or earlier than the last): 409, nothing
// written.
func (s *Service) Advance(ctx context.Context, by *auth.Principal, id, step string, in StepInput) (*Transfer, error) {
	if err := by.Require(auth.IsolationWrite); err != nil {
		return nil, err
	}
	i := slices.Index(TransferSteps, step)
	if i < 1 {
		return nil, ErrTransferStep.Withf("unknown step %q", step)
	}
	note, err := checkNote(in.Note)
	if err != nil {
		return nil, err
	}
	at, err := s.checkTime(in.At)
	if err != nil {
		return nil, err
	}
	var t *Transfer
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if t, err = s.transfer(ctx, tx, by, id); err != nil {
			return err
		}
		if t.State != TransferSteps[i-1] {
			return ErrTransferStep.Withf("the transfer is %s; %s comes after %s", t.State, step, TransferSteps[i-1])
		}
		if last := t.Trail[len(t.Trail)-1]; at.Before(last.At) {
			return ErrTransferStep.Withf("%s at %s is before %s at %s", step, at.In(s.loc).Format("15:04"), last.Step,
				last.At.In(s.loc).Format("15:04"))
		}
		res, err := tx.ExecContext(ctx, `UPDATE iso_transfers SET state = $1 WHERE id = $2 AND state = $3`, step, t.ID, t.State)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrTransferStep.Withf("the transfer moved on meanwhile")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO iso_transfer_steps (transfer_id, step, at, by_actor, note) VALUES ($1, $2, $3, $4, $5)`,
			t.ID, step, at.UnixMilli(), by.Actor(), note); err != nil {
			return err
		}
		t.State = step
		t.Trail = append(t.Trail, Step{Step: step, At: at, By: by.Actor(), Note: note})
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.clock(), Actor: by.Actor(), Action: "transfer." + step, Subject: "person:" + t.PersonID,
			Region: t.Region, Detail: map[string]any{"transfer": t.ID}})
		return err
	})
	if err != nil {
		if _, ok := apierr.As(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("isolation: transfer step: %w", err)
	}
	return t, nil
}

const transferCols = `t.id, t.person_num, p.id, t.masked_name, t.region_code, t.origin, t.vehicle, t.dest_site_id, s.name, s.kind, t.state, t.created_at`

const transferFrom = ` FROM iso_transfers t JOIN iso_sites s ON s.id = t.dest_site_id JOIN persons p ON p.num = t.person_num`

func scanTransfer(sc db.Scanner) (*Transfer, error) {
	var t Transfer
	var at int64
	if err := sc.Scan(&t.ID, &t.Person, &t.PersonID, &t.MaskedName, &t.Region, &t.Origin, &t.Vehicle, &t.Dest, &t.DestName, &t.DestKind,
		&t.State, &at); err != nil {
		return nil, err
	}
	t.CreatedAt = db.Time(at)
	t.Trail = []Step{}
	return &t, nil
}

func (s *Service) transfer(ctx context.Context, q db.Querier, by *auth.Principal, id string) (*Transfer, error) {
	t, err := scanTransfer(q.QueryRowContext(ctx, `SELECT `+transferCols+transferFrom+` WHERE t.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !by.InScope(t.Region)) {
		return nil, ErrTransferNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("isolation: read transfer: %w", err)
	}
	if err := s.trails(ctx, q, map[string]*Transfer{t.ID: t}); err != nil {
		return nil, err
	}
	return t, nil
}

var stepOrder = map[string]int{Dispatched: 0, PickedUp: 1, Arrived: 2}

func (s *Service) trails(ctx context.Context, q db.Querier, ts map[string]*Transfer) error {
	keys := make([]any, 0, len(ts))
	for id := range ts {
		keys = append(keys, id)
	}
	if len(keys) == 0 {
		return nil
	}
	err := db.QueryIn(ctx, q, s.db.Engine(), `SELECT transfer_id, step, at, by_actor, note FROM iso_transfer_steps WHERE transfer_id IN `, nil,
		keys, "", func(sc db.Scanner) error {
			var id string
			var st Step
			var at int64
			if err := sc.Scan(&id, &st.Step, &at, &st.By, &st.Note); err != nil {
				return err
			}
			st.At = db.Time(at)
			ts[id].Trail = append(ts[id].Trail, st)
			return nil
		})
	if err != nil {
		return fmt.Errorf("isolation: read trails: %w", err)
	}
	for _, t := range ts {
		slices.SortFunc(t.Trail, func(a, b Step) int { return stepOrder[a.Step] - stepOrder[b.Step] })
	}
	return nil
}

// Transfer is one transfer in scope with its trail.
func (s *Service) Transfer(ctx context.Context, by *auth.Principal, id string) (*Transfer, error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, err
	}
	return s.transfer(ctx, s.db, by, id)
}

// Transfers lists the transfers to sites in scope with their trails,
// newest first (at most 500); state narrows to those at a step.
func (s *Service) Transfers(ctx context.Context, by *auth.Principal, state string) ([]*Transfer, error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, err
	}
	lo, hi := by.Bounds()
	cond, args := db.Scope("t.region_code", lo, hi, nil)
	if state != "" {
		if !slices.Contains(TransferSteps, state) {
			return nil, ErrStateInvalid
		}
		args = append(args, state)
		cond += fmt.Sprintf(" AND t.state = $%d", len(args))
	}
	out, err := db.Collect(ctx, s.db, `SELECT `+transferCols+transferFrom+` WHERE `+cond+` ORDER BY t.created_at DESC, t.id LIMIT 500`, args, scanTransfer)
	if err != nil {
		return nil, fmt.Errorf("isolation: list transfers: %w", err)
	}
	byID := make(map[string]*Transfer, len(out))
	for _, t := range out {
		byID[t.ID] = t
	}
	if err := s.trails(ctx, s.db, byID); err != nil {
		return nil, err
	}
	if out == nil {
		out = []*Transfer{}
	}
	return out, nil
}
