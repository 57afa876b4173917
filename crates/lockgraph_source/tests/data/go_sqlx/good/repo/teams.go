package repo

import "github.com/jmoiron/sqlx"

// Team is a group of users.
type Team struct {
	ID   int64  `db:"id"`
	Name string `db:"name"`
}

// MoveUser locks the team, reads its members, then moves the user into it (Beginx, Get,
// Select, NamedExec with a struct).
func MoveUser(db *sqlx.DB, u User) error {
	tx, err := db.Beginx()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var t Team
	if err := tx.Get(&t, "SELECT * FROM teams WHERE id = $1 FOR UPDATE", u.TeamID); err != nil {
		return err
	}
	var members []User
	if err := tx.Select(&members, "SELECT * FROM users WHERE team_id = $1", u.TeamID); err != nil {
		return err
	}
	if _, err := tx.NamedExec("UPDATE users SET team_id = :team_id WHERE id = :id", u); err != nil {
		return err
	}
	return tx.Commit()
}
