package backup

import "github.com/healthcode/healthcode/internal/apierr"

var (
	ErrURLUnsupported = apierr.BadRequest("database_url_unsupported", "unsupported database URL (want sqlite:PATH or postgres://...)")
	ErrNoDatabase     = apierr.NotFound("database_not_found", "no such database")
	// ErrOutExists: a backup never overwrites a file, least of all an
	// older backup.
	ErrOutExists = apierr.Conflict("backup_exists", "the backup file exists")
	// ErrNotABackup is a file that is not a sound copy of a healthcode
	// database.
	ErrNotABackup = apierr.BadRequest("not_a_backup", "the file is not a healthcode backup")
	// ErrBackupNewer is a backup made by a newer healthcode than this one.
	ErrBackupNewer = apierr.Conflict("backup_schema_newer", "the backup's schema is newer than this healthcode knows")
	// ErrTargetNewer is a restore onto a database whose schema is newer
	// than the backup's: it would take the schema back in time.
	ErrTargetNewer = apierr.Conflict("restore_schema_newer", "the database's schema is newer than the backup's")
	// ErrTargetNotEmpty is a restore onto a database that holds data,
	// without --force.
	ErrTargetNotEmpty = apierr.Conflict("restore_target_not_empty", "the database already holds data")
	ErrToolMissing    = apierr.NotFound("pg_tool_not_found", "pg_dump or pg_restore not found")
)
