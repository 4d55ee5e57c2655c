package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/healthcode/healthcode/internal/db"
)

// ActorName is who an actor string ("operator:ID", "apikey:ID", ...) of
// the audit log, a fact or a run names, as a person reads it.
type ActorName struct {
	Kind Kind
	Name string // display name (operator, unit account) or key name; "" when unknown
	User string // the operator's or unit account's username
}

// ActorNames names the actors it knows: operators and unit accounts by
// display name and username, API keys by their name. Residents are not
// named (their phone is personal data), nor actors of no stored kind.
func (s *Service) ActorNames(ctx context.Context, actors []string) (map[string]ActorName, error) {
	out := map[string]ActorName{}
	byKind := map[Kind][]string{}
	for _, a := range actors {
		kind, id, ok := strings.Cut(a, ":")
		if !ok || id == "" {
			continue
		}
		if _, seen := out[a]; seen {
			continue
		}
		out[a] = ActorName{Kind: Kind(kind)}
		byKind[Kind(kind)] = append(byKind[Kind(kind)], id)
	}
	for kind, query := range map[Kind]string{
		Operator: `SELECT id, display_name, username FROM operators WHERE id IN `,
		Unit:     `SELECT id, display_name, username FROM unit_accounts WHERE id IN `,
		APIKey:   `SELECT id, name, '' FROM api_keys WHERE id IN `,
	} {
		ids := byKind[kind]
		if len(ids) == 0 {
			continue
		}
		err := db.QueryIn(ctx, s.db, s.db.Engine(), query, nil, ids, ``, func(sc db.Scanner) error {
			var id string
			n := ActorName{Kind: kind}
			if err := sc.Scan(&id, &n.Name, &n.User); err != nil {
				return err
			}
			out[string(kind)+":"+id] = n
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("auth: name actors: %w", err)
		}
	}
	return out, nil
}
