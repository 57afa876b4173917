//! Go front-end: a fixture pair per driver pattern (`tests/data/go_*/{bad,good}`), and the
//! behaviour of the lowering on small inputs (lock order and lines, placeholders and
//! arguments, scopes, `defer`, error checks, branches, loops, suppressions, depth).

#[macro_use]
mod common;

#[allow(dead_code)]
#[path = "../examples/gen_go.rs"]
mod gen_go;

#[test]
fn database_sql_begin_tx_defer_rollback_and_mysql_placeholders() {
    check_pair!("go_database_sql", "LG101");
}

#[test]
fn pgx_begin_func_and_pool_begin_across_files() {
    check_pair!("go_pgx", "LG101");
}

#[test]
fn sqlx_must_begin_get_select_named_exec() {
    check_pair!("go_sqlx", "LG101");
}

#[test]
fn calls_across_packages_struct_fields_and_split_methods() {
    check_pair!("go_cross_package", "LG101");
}

#[test]
fn sql_in_constants_raw_strings_concatenation_and_sprintf() {
    check_pair!("go_sql_strings", "LG101");
}

#[test]
fn switch_and_if_branches() {
    check_pair!("go_branches", "LG101");
}

#[test]
fn loop_over_unsorted_keys() {
    check_pair!("go_loop_sorted", "LG103");
}

use common::{files, lock_list, render, run, table_order};
use lockgraph_core::{LockTarget, Transaction, TransactionKind};

/// Whether every row lock the transaction takes itself is marked as taken in key order.
fn rows_ordered(tx: &Transaction) -> Vec<bool> {
    tx.locks
        .iter()
        .filter(|l| l.implicit.is_none())
        .filter_map(|l| match &l.target {
            LockTarget::Rows { key: Some(k), .. } => Some(k.ordered),
            _ => None,
        })
        .collect()
}

const REPO: &str = r#"package repo

import (
	"context"
	"database/sql"
)

type AccountRepo struct{ table string }

func (r *AccountRepo) Debit(ctx context.Context, tx *sql.Tx, id, cents int64) error {
	_, err := tx.ExecContext(ctx, "UPDATE accounts SET balance = balance - $2 WHERE id = $1", id, cents)
	return err
}

func (r *AccountRepo) Credit(ctx context.Context, tx *sql.Tx, id, cents int64) error {
	_, err := tx.ExecContext(ctx,
		"UPDATE accounts SET balance = balance + $2 WHERE id = $1",
		id, cents)
	return err
}
"#;

#[test]
fn locks_point_at_the_repository_lines_and_arguments_number_rows() {
    let service = r#"package service

import (
	"context"
	"database/sql"

	accts "example.com/bank/internal/repo"
)

type Transfers struct {
	db       *sql.DB
	accounts *accts.AccountRepo
}

func (s *Transfers) Move(ctx context.Context, from, to, cents int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.accounts.Debit(ctx, tx, from, cents); err != nil {
		return err
	}
	if err := s.accounts.Credit(ctx, tx, to, cents); err != nil {
		return err
	}
	return tx.Commit()
}
"#;
    let ext = run(&files(&[
        ("internal/repo/accounts.go", REPO),
        ("internal/service/transfers.go", service),
    ]));
    assert_eq!(ext.transactions.len(), 1, "{}", render(&ext));
    let tx = &ext.transactions[0];
    assert_eq!(
        &*tx.name,
        "Transfers.Move (internal/service/transfers.go:16)"
    );
    assert_eq!(tx.kind, TransactionKind::Explicit);
    let rows: Vec<String> = tx
        .locks
        .iter()
        .filter(|l| matches!(l.target, LockTarget::Rows { .. }))
        .map(|l| format!("{} <- {}", l.target, l.statement.location))
        .collect();
    // The lines are the repository's (the second call's SQL is on the line of
    // `ExecContext(`); calls carry no data flow, so both are the helpers' `id`.
    assert_eq!(
        rows,
        [
            "accounts rows (id = $2) <- internal/repo/accounts.go:11",
            "accounts rows (id = $2) <- internal/repo/accounts.go:16",
        ],
        "{}",
        render(&ext)
    );
    let via: Vec<String> = tx
        .locks
        .iter()
        .filter_map(|l| l.via.as_ref())
        .flat_map(|v| v.iter().map(ToString::to_string))
        .collect();
    assert!(
        via.contains(&"internal/service/transfers.go:21".to_string()),
        "{via:?}"
    );
    assert!(
        via.contains(&"internal/service/transfers.go:24".to_string()),
        "{via:?}"
    );
}

#[test]
fn placeholders_literals_variadics_named_and_prepared() {
    let src = r#"package jobs

import (
	"context"
	"database/sql"

	"github.com/georgysavva/scany/v2/pgxscan"
	"github.com/jmoiron/sqlx"
)

func Run(ctx context.Context, db *sql.DB, x *sqlx.DB, id int64, args []any, from, to int64) {
	db.ExecContext(ctx, "UPDATE a SET v = ? WHERE id = ?", 7, id)
	db.ExecContext(ctx, "UPDATE f SET v = 1 WHERE id = $1", from)
	db.ExecContext(ctx, "UPDATE f SET v = 1 WHERE id = $1", to)
	db.Exec("UPDATE b SET v = 'x' WHERE id = $1", args...)
	x.NamedExec("UPDATE c SET v = :v WHERE id = :id", map[string]any{"id": id, "v": "new"})
	stmt, _ := db.PrepareContext(ctx, "DELETE FROM d WHERE id = $1")
	stmt.ExecContext(ctx, id)
	var n []int64
	pgxscan.Select(ctx, db, &n, "SELECT id FROM e WHERE id = $1", id)
}
"#;
    let ext = run(&files(&[("jobs/run.go", src)]));
    let texts: Vec<&str> = ext.statements.iter().map(|s| &*s.text).collect();
    assert_eq!(
        texts,
        [
            "UPDATE a SET v = 7 WHERE id = $1",
            "UPDATE f SET v = 1 WHERE id = $2",
            "UPDATE f SET v = 1 WHERE id = $3",
            "UPDATE b SET v = 'x' WHERE id = $1",
            "UPDATE c SET v = 'new' WHERE id = $1",
            "DELETE FROM d WHERE id = $1",
            "SELECT id FROM e WHERE id = $1",
        ],
        "{}",
        render(&ext)
    );
    let lines: Vec<u32> = ext.statements.iter().map(|s| s.location.line).collect();
    assert_eq!(lines, [12, 13, 14, 15, 16, 18, 20]);
    // Outside a transaction each statement is its own.
    assert!(
        ext.transactions
            .iter()
            .all(|t| t.kind == TransactionKind::Autocommit)
    );
}

#[test]
fn begin_func_and_tx_helpers_are_scopes_and_closure_returns_end_only_the_closure() {
    let src = r#"package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type Store struct{ pool *pgxpool.Pool }

func (s *Store) Ship(ctx context.Context, id int64, express bool) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE orders SET shipped = true WHERE id = $1", id); err != nil {
			return err
		}
		if !express {
			return nil
		}
		_, err := tx.Exec(ctx, "UPDATE couriers SET busy = true WHERE id = 1")
		return err
	})
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, "UPDATE stats SET shipped = shipped + 1")
	return err
}

func (s *Store) Archive(ctx context.Context, id int64) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM orders WHERE id = $1", id)
		return err
	})
}

func (s *Store) withTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
"#;
    let ext = run(&files(&[("store/store.go", src)]));
    let got: Vec<(String, TransactionKind, Vec<String>)> = ext
        .transactions
        .iter()
        .map(|t| (t.name.to_string(), t.kind, table_order(t)))
        .collect();
    let explicit = TransactionKind::Explicit;
    assert_eq!(
        got,
        [
            (
                "Store.Ship (store/store.go:13) path 1/2".into(),
                explicit,
                vec!["orders".into()]
            ),
            (
                "Store.Ship (store/store.go:13) path 2/2".into(),
                explicit,
                vec!["orders".into(), "couriers".into()]
            ),
            (
                "Store.Ship (store/store.go:26)".into(),
                TransactionKind::Autocommit,
                vec!["stats".into()]
            ),
            (
                "Store.Archive (store/store.go:31)".into(),
                explicit,
                vec!["orders".into()]
            ),
        ],
        "{}",
        render(&ext)
    );
}

#[test]
fn deferred_rollback_runs_at_return_not_where_written() {
    let src = r#"package svc

import (
	"context"
	"database/sql"
)

func step(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	tx.ExecContext(ctx, "UPDATE a SET v = 1 WHERE id = 1")
	tx.ExecContext(ctx, "UPDATE b SET v = 1 WHERE id = 1")
	return nil
}

func Handle(ctx context.Context, db *sql.DB) error {
	if err := step(ctx, db); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, "UPDATE c SET v = 1 WHERE id = 1")
	return err
}
"#;
    let ext = run(&files(&[("svc/svc.go", src)]));
    // The deferred rollback ends `step`'s transaction at its `return`: the UPDATE of `c` in
    // the caller is not part of it.
    let got: Vec<(TransactionKind, Vec<String>)> = ext
        .transactions
        .iter()
        .map(|t| (t.kind, table_order(t)))
        .collect();
    assert_eq!(
        got,
        [
            (TransactionKind::Explicit, vec!["a".into(), "b".into()]),
            (TransactionKind::Autocommit, vec!["c".into()]),
        ],
        "{}",
        render(&ext)
    );
}

#[test]
fn error_checks_do_not_multiply_paths() {
    let src = r#"package repo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

var ErrGone = errors.New("gone")

func Settle(ctx context.Context, db *sql.DB, id int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var status string
	err = tx.QueryRowContext(ctx, "SELECT status FROM orders WHERE id = $1 FOR UPDATE", id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrGone
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE orders SET status = 'settled' WHERE id = $1", id); err != nil {
		tx.Rollback()
		return err
	}
	res, err := tx.ExecContext(ctx, "UPDATE ledger SET n = n + 1 WHERE order_id = $1", id)
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case err != nil:
		panic(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return ErrGone
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return nil
}
"#;
    let ext = run(&files(&[("repo/settle.go", src)]));
    assert_eq!(ext.transactions.len(), 1, "{}", render(&ext));
    assert_eq!(
        &*ext.transactions[0].name,
        "repo.Settle (repo/settle.go:13)"
    );
    assert_eq!(
        table_order(&ext.transactions[0]),
        ["orders", "orders", "ledger"]
    );
}

#[test]
fn branches_switches_and_selects_fork() {
    let src = r#"package svc

import (
	"context"
	"database/sql"
)

func Apply(ctx context.Context, tx *sql.Tx, kind string, ch chan int, ok bool) {
	tx.ExecContext(ctx, "BEGIN")
	if ok {
		tx.ExecContext(ctx, "UPDATE a SET v = 1 WHERE id = 1")
	} else if kind == "b" {
		tx.ExecContext(ctx, "UPDATE b SET v = 1 WHERE id = 1")
	}
	switch kind {
	case "c":
		tx.ExecContext(ctx, "UPDATE c SET v = 1 WHERE id = 1")
	case "d":
		return
	}
	select {
	case <-ch:
		tx.ExecContext(ctx, "UPDATE e SET v = 1 WHERE id = 1")
	default:
	}
	tx.ExecContext(ctx, "COMMIT")
}
"#;
    let ext = run(&files(&[("svc/apply.go", src)]));
    let mut orders: Vec<String> = ext
        .transactions
        .iter()
        .map(|t| table_order(t).join(","))
        .collect();
    orders.sort();
    // if: a | b | -; switch: c | return | -; select: e | -: (a, b, -) × (c, -) × (e, -); the
    // paths that return in the switch run (a, b, -) only, the same sequences as three others.
    assert_eq!(orders.len(), 12, "{orders:#?}");
    assert!(orders.contains(&String::new()));
    assert!(orders.contains(&"a,c,e".to_string()));
    assert!(orders.contains(&"b".to_string()));
    assert!(orders.contains(&"e".to_string()));
}

#[test]
fn loops_repeat_and_sorted_keys_are_ordered() {
    let src = r#"package svc

import (
	"context"
	"database/sql"
	"sort"
)

func Lock(ctx context.Context, tx *sql.Tx, ids []int64, a, b int64) {
	for _, id := range ids {
		tx.ExecContext(ctx, "UPDATE items SET n = n + 1 WHERE id = $1", id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		tx.ExecContext(ctx, "UPDATE parts SET n = n + 1 WHERE id = $1", id)
	}
	if a > b {
		a, b = b, a
	}
	tx.ExecContext(ctx, "UPDATE pairs SET n = 1 WHERE id = $1", a)
	lo, hi := min(a, b), max(a, b)
	tx.ExecContext(ctx, "UPDATE pairs SET n = 2 WHERE id = $1", hi)
	_ = lo
	for i := 0; i < 3; i++ {
		tx.ExecContext(ctx, "UPDATE ticks SET n = n + 1 WHERE id = 1")
	}
}
"#;
    let ext = run(&files(&[("svc/lock.go", src)]));
    let by_table = |t: &str| {
        ext.transactions
            .iter()
            .find(|x| table_order(x).first().is_some_and(|f| f == t))
            .unwrap_or_else(|| panic!("no {t}: {}", render(&ext)))
    };
    assert_eq!(
        lock_list(by_table("items")),
        [
            "items ROW EXCLUSIVE *",
            "items rows (id = $1) FOR NO KEY UPDATE *"
        ]
    );
    assert_eq!(rows_ordered(by_table("items")), [false]);
    assert_eq!(rows_ordered(by_table("parts")), [true]);
    let pairs: Vec<bool> = ext
        .transactions
        .iter()
        .filter(|t| table_order(t).first().is_some_and(|f| f == "pairs"))
        .flat_map(rows_ordered)
        .collect();
    assert_eq!(pairs, [true, true], "{}", render(&ext));
    assert!(by_table("ticks").locks.iter().all(|l| l.repeated));
}

#[test]
fn suppression_comment_targets_the_statement_line() {
    let src = r#"package svc

import "database/sql"

func F(tx *sql.Tx) {
	s := "// lockgraph: ignore[LG101] not a comment"
	_ = s
	// lockgraph: ignore[LG101] orders are locked by one worker only
	tx.Exec("UPDATE orders SET v = 1 WHERE id = 1")
	tx.Exec("UPDATE items SET v = 1 WHERE id = 1") // lockgraph: ignore[LG103] single row
}
"#;
    let ext = run(&files(&[("svc/f.go", src)]));
    let sups: Vec<(u32, u32, Vec<String>)> = ext
        .suppressions
        .iter()
        .map(|s| (s.comment.line, s.target.line, s.codes.clone()))
        .collect();
    assert_eq!(
        sups,
        [
            (8, 9, vec!["LG101".to_string()]),
            (10, 10, vec!["LG103".to_string()]),
        ]
    );
    let stmt_lines: Vec<u32> = ext.statements.iter().map(|s| s.location.line).collect();
    assert_eq!(stmt_lines, [9, 10]);
}

#[test]
fn deep_and_broken_inputs_do_not_blow_up() {
    let mut deep =
        String::from("package d\n\nfunc F(tx T) {\n\ttx.Exec(\"SELECT 1 FROM t WHERE x = \" + ");
    for _ in 0..10_000 {
        deep.push_str("\"a\" + ");
    }
    deep.push_str("\"b\")\n\tx := ");
    for _ in 0..10_000 {
        deep.push('(');
    }
    deep.push('1');
    for _ in 0..10_000 {
        deep.push(')');
    }
    deep.push_str("\n\t_ = x\n\ty := a");
    for _ in 0..10_000 {
        deep.push_str(".b");
    }
    deep.push_str(".Exec(\"UPDATE z SET v = 1\")\n\t_ = y\n");
    for _ in 0..300 {
        deep.push_str("if x > 0 {\n");
    }
    deep.push_str("tx.Exec(\"UPDATE a SET v = 1\")\n");
    for _ in 0..300 {
        deep.push_str("}\n");
    }
    deep.push_str("}\n");
    deep.push_str("var v = ");
    deep.push_str(&"^".repeat(10_000));
    deep.push_str("1\n");
    let broken = "package b\n\nfunc F( {\n";
    let ext = run(&files(&[("d/deep.go", &deep), ("b/broken.go", broken)]));
    assert_eq!(ext.warnings.len(), 1, "{:?}", ext.warnings);
    assert!(
        ext.warnings[0].starts_with("b/broken.go:"),
        "{:?}",
        ext.warnings
    );
    assert!(ext.warnings[0].contains("Go syntax error"));
}

#[test]
fn generated_corpus_extracts_cleanly() {
    let files = common::generated(gen_go::generate(1_000));
    let (_, app0) = common::run_generated(&files, |t| lock_list(t).join(", "));
    insta::assert_snapshot!(app0.join("\n"));
}

#[test]
fn sqlc_generated_queries_are_read_like_database_sql() {
    let db = r#"package db

import (
	"context"
	"database/sql"
)

type DBTX interface {
	ExecContext(context.Context, string, ...interface{}) (sql.Result, error)
}

type Queries struct {
	db DBTX
}

func (q *Queries) WithTx(tx *sql.Tx) *Queries {
	return &Queries{db: tx}
}
"#;
    let queries = r#"package db

import "context"

const debitAccount = `-- name: DebitAccount :exec
UPDATE accounts SET balance = balance - $2 WHERE id = $1
`

type DebitAccountParams struct {
	ID     int64
	Amount int64
}

func (q *Queries) DebitAccount(ctx context.Context, arg DebitAccountParams) error {
	_, err := q.db.ExecContext(ctx, debitAccount, arg.ID, arg.Amount)
	return err
}
"#;
    let store = r#"package store

import (
	"context"
	"database/sql"

	"example.com/bank/internal/db"
)

type Store struct {
	conn *sql.DB
	q    *db.Queries
}

func (s *Store) Pay(ctx context.Context, id, cents int64) error {
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	qtx := s.q.WithTx(tx)
	if err := qtx.DebitAccount(ctx, db.DebitAccountParams{ID: id, Amount: cents}); err != nil {
		return err
	}
	return tx.Commit()
}
"#;
    let ext = run(&files(&[
        ("internal/db/db.go", db),
        ("internal/db/query.sql.go", queries),
        ("internal/store/store.go", store),
    ]));
    assert_eq!(ext.transactions.len(), 1, "{}", render(&ext));
    let tx = &ext.transactions[0];
    assert_eq!(&*tx.name, "Store.Pay (internal/store/store.go:16)");
    assert_eq!(
        lock_list(tx),
        [
            "accounts ROW EXCLUSIVE",
            "accounts rows (id = $2) FOR NO KEY UPDATE"
        ]
    );
    assert_eq!(
        tx.locks[1].statement.location.to_string(),
        "internal/db/query.sql.go:15"
    );
}
