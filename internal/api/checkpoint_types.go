package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/checkpoint"
)

// CheckpointRequest is POST /admin/checkpoints.
type CheckpointRequest struct {
	Seq     int64    `json:"seq,omitempty" doc:"the checkpoint's number in the published list"`
	Name    string   `json:"name"`
	Region  string   `json:"region,omitempty" doc:"the operator's region if left out"`
	Address string   `json:"address,omitempty"`
	Built   *bool    `json:"built,omitempty"`
	Enabled *bool    `json:"enabled,omitempty"`
	Scopes  []string `json:"scopes,omitempty" doc:"the API key's scopes; verify and verify_id if left out"`
	// VenueKind is last, as in checkpoint.Input, which the handler converts to.
	VenueKind string `json:"venue_kind,omitempty" doc:"the kind of venue it stands at (its entry policy then holds at verification); empty for none"`
}

// CheckpointResponse is a checkpoint (卡口): a place where codes are checked.
type CheckpointResponse struct {
	ID        string    `json:"id"`
	Seq       int64     `json:"seq,omitempty"`
	Name      string    `json:"name"`
	Region    string    `json:"region"`
	Address   string    `json:"address"`
	Built     bool      `json:"built"`
	Enabled   bool      `json:"enabled"`
	APIKeyID  string    `json:"api_key_id,omitempty" doc:"the id of its current API key, while enabled"`
	CreatedAt time.Time `json:"created_at"`
	VenueKind string    `json:"venue_kind" doc:"the kind of venue it stands at, whose entry policy holds at its verifications; empty for none"`
}

func checkpointResponse(c *checkpoint.Checkpoint) CheckpointResponse {
	return CheckpointResponse(*c)
}

// CheckpointCreated is a new checkpoint with its API key, shown once.
type CheckpointCreated struct {
	APIKey     string             `json:"api_key" doc:"the secret key, shown this once"`
	Checkpoint CheckpointResponse `json:"checkpoint"`
	ID         string             `json:"id"`
}

// CheckpointTable is GET /admin/checkpoints.
type CheckpointTable struct {
	Checkpoints []CheckpointResponse `json:"checkpoints"`
	Total       int                  `json:"total"`
	Built       int                  `json:"built"`
	Enabled     int                  `json:"enabled"`
}

// CheckpointPatch is PATCH /admin/checkpoints/{id}.
type CheckpointPatch struct {
	Built     *bool   `json:"built,omitempty"`
	Enabled   *bool   `json:"enabled,omitempty" doc:"false revokes the key; true issues a new one"`
	VenueKind *string `json:"venue_kind,omitempty" doc:"the kind of venue it stands at (its entry policy then holds at verification); empty for none"`
}

// CheckpointUpdated is the changed checkpoint, with a new key when it was
// enabled.
type CheckpointUpdated struct {
	APIKey     string             `json:"api_key,omitempty" doc:"a new secret key, shown this once"`
	Checkpoint CheckpointResponse `json:"checkpoint"`
}

// ScannerCheckpoint is GET /verify/checkpoint: where the scanner stands.
type ScannerCheckpoint struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Region     string `json:"region"`
	RegionName string `json:"region_name" doc:"the region's name, or its code when unknown"`
}
