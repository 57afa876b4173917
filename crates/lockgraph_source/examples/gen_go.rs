//! Writes a tree of realistic Go service code for benchmarking the source front-end.
//!
//! ```text
//! cargo run --release -p lockgraph_source --example gen_go -- <out-dir> [lines]
//! ```
//!
//! Each generated app (`app<N>/`, Go module `example.com/app<N>`) has models with plain
//! methods, database/sql repositories (constants, raw strings, `fmt.Sprintf`), services that
//! call them across packages inside `BeginTx` … `Commit` transactions (error checks, branches,
//! loops over sorted keys), a pgx `BeginFunc` batch job, HTTP handlers and helper code: about
//! 300 lines in all.

use std::fmt::Write as _;

#[path = "common/mod.rs"]
mod common;

/// Generated files: (display path, text), about `lines` lines in total.
pub fn generate(lines: usize) -> Vec<(String, String)> {
    common::generate(lines, app_files)
}

fn app_files(n: usize) -> Vec<(String, String)> {
    let a = format!("app{n}");
    let accounts = format!("{a}_accounts");
    let ledger = format!("{a}_ledger");
    let holds = format!("{a}_holds");
    let mut model = String::new();
    let _ = write!(
        model,
        r#"// Package model holds the domain types of {a}.
package model

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalid is returned for inputs that fail validation.
var ErrInvalid = errors.New("invalid input")

// Account is a wallet account.
type Account struct {{
	ID        int64
	Owner     string
	Currency  string
	Balance   int64
	UpdatedAt time.Time
}}

// Entry is one movement of money on an account.
type Entry struct {{
	ID        int64
	AccountID int64
	Amount    int64
	Note      string
}}

// Validate checks an account before it is stored.
func (a Account) Validate() error {{
	if strings.TrimSpace(a.Owner) == "" {{
		return fmt.Errorf("owner: %w", ErrInvalid)
	}}
	if len(a.Currency) != 3 {{
		return fmt.Errorf("currency %q: %w", a.Currency, ErrInvalid)
	}}
	return nil
}}

// String formats the account for logs.
func (a Account) String() string {{
	return fmt.Sprintf("%d/%s (%s %d)", a.ID, a.Owner, a.Currency, a.Balance)
}}

// Total adds up the amounts of entries.
func Total(entries []Entry) int64 {{
	var sum int64
	for _, e := range entries {{
		sum += e.Amount
	}}
	return sum
}}
"#
    );
    let mut accounts_repo = String::new();
    let _ = write!(
        accounts_repo,
        r#"// Package repo is the data access layer of {a}; it runs on the caller's transaction.
package repo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"example.com/{a}/internal/model"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

const lockAccountSQL = `
SELECT id, owner, currency, balance
  FROM {accounts}
 WHERE id = $1
   FOR UPDATE`

// AccountRepo reads and writes accounts.
type AccountRepo struct{{}}

// NewAccountRepo returns the repository.
func NewAccountRepo() *AccountRepo {{
	return &AccountRepo{{}}
}}

// Lock locks an account for the rest of the transaction.
func (r *AccountRepo) Lock(ctx context.Context, tx *sql.Tx, id int64) (model.Account, error) {{
	var acc model.Account
	err := tx.QueryRowContext(ctx, lockAccountSQL, id).Scan(&acc.ID, &acc.Owner, &acc.Currency, &acc.Balance)
	if errors.Is(err, sql.ErrNoRows) {{
		return acc, ErrNotFound
	}}
	if err != nil {{
		return acc, fmt.Errorf("lock account %d: %w", id, err)
	}}
	return acc, nil
}}

// Adjust adds delta to the balance of an account.
func (r *AccountRepo) Adjust(ctx context.Context, tx *sql.Tx, id, delta int64) error {{
	res, err := tx.ExecContext(ctx,
		"UPDATE {accounts} SET balance = balance + $2, updated_at = now() WHERE id = $1",
		id, delta,
	)
	if err != nil {{
		return err
	}}
	if n, err := res.RowsAffected(); err != nil || n != 1 {{
		return ErrNotFound
	}}
	return nil
}}

// Create stores a new account.
func (r *AccountRepo) Create(ctx context.Context, db *sql.DB, acc model.Account) (int64, error) {{
	if err := acc.Validate(); err != nil {{
		return 0, err
	}}
	var id int64
	err := db.QueryRowContext(ctx,
		"INSERT INTO {accounts} (owner, currency) VALUES ($1, $2) RETURNING id",
		acc.Owner, acc.Currency,
	).Scan(&id)
	return id, err
}}
"#
    );
    let mut ledger_repo = String::new();
    let _ = write!(
        ledger_repo,
        r#"package repo

import (
	"context"
	"database/sql"
	"fmt"

	"example.com/{a}/internal/model"
)

const ledgerColumns = "id, account_id, amount, note"

// LedgerRepo reads and writes ledger entries.
type LedgerRepo struct{{}}

// Append records an entry.
func (r *LedgerRepo) Append(ctx context.Context, tx *sql.Tx, accountID, amount int64, note string) error {{
	_, err := tx.ExecContext(ctx,
		"INSERT INTO {ledger} (account_id, amount, note) VALUES ($1, $2, $3)",
		accountID, amount, note,
	)
	return err
}}

// Recent returns the latest entries of an account.
func (r *LedgerRepo) Recent(ctx context.Context, db *sql.DB, accountID int64, limit int) ([]model.Entry, error) {{
	q := fmt.Sprintf("SELECT %s FROM {ledger} WHERE account_id = $1 ORDER BY id DESC LIMIT %d", ledgerColumns, limit)
	rows, err := db.QueryContext(ctx, q, accountID)
	if err != nil {{
		return nil, err
	}}
	defer rows.Close()
	var out []model.Entry
	for rows.Next() {{
		var e model.Entry
		if err := rows.Scan(&e.ID, &e.AccountID, &e.Amount, &e.Note); err != nil {{
			return nil, err
		}}
		out = append(out, e)
	}}
	return out, rows.Err()
}}

// Hold reserves an amount on an account until it is released.
func (r *LedgerRepo) Hold(ctx context.Context, tx *sql.Tx, accountID, amount int64) error {{
	_, err := tx.ExecContext(ctx, "UPDATE {holds} SET amount = amount + $2 WHERE account_id = $1", accountID, amount)
	return err
}}
"#
    );
    let mut transfers = String::new();
    let _ = write!(
        transfers,
        r#"// Package service holds the use cases of {a}.
package service

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"example.com/{a}/internal/model"
	"example.com/{a}/internal/repo"
)

// Transfers moves money between accounts.
type Transfers struct {{
	db       *sql.DB
	accounts *repo.AccountRepo
	ledger   *repo.LedgerRepo
}}

// NewTransfers wires the service.
func NewTransfers(db *sql.DB) *Transfers {{
	return &Transfers{{db: db, accounts: repo.NewAccountRepo(), ledger: &repo.LedgerRepo{{}}}}
}}

// Move moves amount from one account to another, locking both in key order.
func (s *Transfers) Move(ctx context.Context, from, to, amount int64, hold bool) error {{
	if amount <= 0 {{
		return model.ErrInvalid
	}}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {{
		return err
	}}
	defer tx.Rollback()
	ids := []int64{{from, to}}
	sort.Slice(ids, func(i, j int) bool {{ return ids[i] < ids[j] }})
	for _, id := range ids {{
		if _, err := s.accounts.Lock(ctx, tx, id); err != nil {{
			return fmt.Errorf("move: %w", err)
		}}
	}}
	if err := s.accounts.Adjust(ctx, tx, from, -amount); err != nil {{
		return err
	}}
	if err := s.accounts.Adjust(ctx, tx, to, amount); err != nil {{
		return err
	}}
	if hold {{
		if err := s.ledger.Hold(ctx, tx, to, amount); err != nil {{
			return err
		}}
	}}
	if err := s.ledger.Append(ctx, tx, from, -amount, "transfer out"); err != nil {{
		return err
	}}
	if err := s.ledger.Append(ctx, tx, to, amount, "transfer in"); err != nil {{
		return err
	}}
	return tx.Commit()
}}

// Statement returns the recent entries of an account and their total.
func (s *Transfers) Statement(ctx context.Context, accountID int64) ([]model.Entry, int64, error) {{
	entries, err := s.ledger.Recent(ctx, s.db, accountID, 50)
	if err != nil {{
		return nil, 0, err
	}}
	return entries, model.Total(entries), nil
}}
"#
    );
    let mut batch = String::new();
    let _ = write!(
        batch,
        r#"package service

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Interest credits interest to many accounts in one pgx transaction, in key order.
func Interest(ctx context.Context, pool *pgxpool.Pool, ids []int64, cents int64) error {{
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {{
		for _, id := range sorted {{
			if _, err := tx.Exec(ctx, "UPDATE {accounts} SET balance = balance + $2 WHERE id = $1", id, cents); err != nil {{
				return err
			}}
		}}
		_, err := tx.Exec(ctx, "INSERT INTO {ledger} (account_id, amount, note) SELECT unnest($1::bigint[]), $2, 'interest'", sorted, cents)
		return err
	}})
}}
"#
    );
    let mut handlers = String::new();
    let _ = write!(
        handlers,
        r#"// Package api serves the HTTP API of {a}.
package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"example.com/{a}/internal/service"
)

// Server holds the services.
type Server struct {{
	transfers *service.Transfers
}}

type moveRequest struct {{
	From   int64 `json:"from"`
	To     int64 `json:"to"`
	Amount int64 `json:"amount"`
	Hold   bool  `json:"hold"`
}}

// HandleMove moves money.
func (s *Server) HandleMove(w http.ResponseWriter, r *http.Request) {{
	var req moveRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {{
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}}
	if err := s.transfers.Move(r.Context(), req.From, req.To, req.Amount, req.Hold); err != nil {{
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}}
	w.WriteHeader(http.StatusNoContent)
}}

// HandleStatement lists the recent entries of an account.
func (s *Server) HandleStatement(w http.ResponseWriter, r *http.Request) {{
	id, err := strconv.ParseInt(r.URL.Query().Get("account"), 10, 64)
	if err != nil {{
		http.Error(w, "bad account", http.StatusBadRequest)
		return
	}}
	entries, total, err := s.transfers.Statement(r.Context(), id)
	if err != nil {{
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{{"entries": entries, "total": total}})
}}
"#
    );
    let mut util = String::new();
    let _ = write!(
        util,
        r#"// Package util has small helpers of {a}.
package util

import (
	"strings"
	"unicode"
)

// Slug turns a name into a URL-safe slug.
func Slug(name string) string {{
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {{
		switch {{
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}}
	}}
	return strings.TrimSuffix(b.String(), "-")
}}

// Chunk splits ids into batches of at most size.
func Chunk(ids []int64, size int) [][]int64 {{
	var out [][]int64
	for size > 0 && len(ids) > size {{
		out = append(out, ids[:size])
		ids = ids[size:]
	}}
	return append(out, ids)
}}
"#
    );
    vec![
        (format!("{a}/internal/model/model.go"), model),
        (format!("{a}/internal/repo/accounts.go"), accounts_repo),
        (format!("{a}/internal/repo/ledger.go"), ledger_repo),
        (format!("{a}/internal/service/transfers.go"), transfers),
        (format!("{a}/internal/service/batch.go"), batch),
        (format!("{a}/internal/api/handlers.go"), handlers),
        (format!("{a}/internal/util/util.go"), util),
    ]
}

fn main() {
    common::main("gen_go", generate);
}
