package repo

import "github.com/jmoiron/sqlx"

// User is a member of a team.
type User struct {
	ID     int64  `db:"id"`
	Name   string `db:"name"`
	TeamID int64  `db:"team_id"`
}

// Rename renames the user, then touches the user's team (MustBegin, MustExec, NamedExec).
func Rename(db *sqlx.DB, u User, name string) error {
	tx := db.MustBegin()
	tx.MustExec("UPDATE users SET name = $1 WHERE id = $2", name, u.ID)
	if _, err := tx.NamedExec("UPDATE teams SET touched_at = now() WHERE id = :team_id",
		map[string]interface{}{"team_id": u.TeamID}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
