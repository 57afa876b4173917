package repo

import "github.com/jmoiron/sqlx"

// User is a member of a team.
type User struct {
	ID     int64  `db:"id"`
	Name   string `db:"name"`
	TeamID int64  `db:"team_id"`
}

// Rename touches the user's team, then renames the user: teams before users, as MoveUser does.
func Rename(db *sqlx.DB, u User, name string) error {
	tx := db.MustBegin()
	if _, err := tx.NamedExec("UPDATE teams SET touched_at = now() WHERE id = :team_id",
		map[string]interface{}{"team_id": u.TeamID}); err != nil {
		tx.Rollback()
		return err
	}
	tx.MustExec("UPDATE users SET name = $1 WHERE id = $2", name, u.ID)
	return tx.Commit()
}
