package keys

import (
	"context"
	"fmt"
)

// DestroyPrivate wipes the private part of every signing key of the region,
// current ones too: the end of the emergency. Public parts stay, so the
// trust list still verifies what the keys signed (the wind-down's report
// among them). It returns how many private parts it wiped.
func (s *Store) DestroyPrivate(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE signing_keys SET private_enc = NULL WHERE issuer = $1 AND private_enc IS NOT NULL`, s.cfg.Region)
	if err != nil {
		return 0, fmt.Errorf("keys: destroy private keys: %w", err)
	}
	n, _ := res.RowsAffected()
	if err := s.Reload(ctx); err != nil {
		return n, err
	}
	return n, nil
}
