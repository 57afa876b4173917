//! Commands read from tokens rather than sqlparser's AST.
//!
//! sqlparser 0.64 rejects several of these (`VACUUM (…)`, `CLUSTER`, `REINDEX`,
//! `CREATE STATISTICS`, many `ALTER TABLE` forms, `DO`); all of them name one or two relations in
//! fixed places, so a few words of grammar each are enough, and the lock data stays in tables.
//! Sources: each command's reference page and 13.3.1 "Table-Level Locks"; every entry is pinned
//! against `pg_locks` on PostgreSQL 15 by the oracle test (some that cannot run in a
//! transaction block are observed from a second session while they wait).

use super::Locks;
use super::ddl::{INDEX_BUILD, index_table};
use crate::lexer::{Kind, Token};
use crate::normalize::fold_ident;
use lockgraph_core::{DiagnosticKind, RelationName, Schema, TableLockMode};

use TableLockMode as Mode;

/// What a token command takes.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub locks: Locks,
    pub problem: Option<(DiagnosticKind, String)>,
}

type Handler = fn(&mut Cursor<'_, '_>, &Schema, &mut Found);

/// Leading words → handler. First match wins, so longer forms come first.
const COMMANDS: &[(&[&str], Handler)] = &[
    (&["alter", "table"], alter_table),
    (&["alter", "materialized", "view"], alter_table),
    (&["alter", "foreign", "table"], alter_table),
    (&["vacuum"], vacuum),
    (&["analyze"], analyze),
    (&["analyse"], analyze),
    (&["cluster"], cluster),
    (&["reindex"], reindex),
    (&["create", "statistics"], create_statistics),
    (&["create", "trigger"], create_trigger),
    (&["create", "or", "replace", "trigger"], create_trigger),
    (&["create", "constraint", "trigger"], create_trigger),
    (
        &["create", "or", "replace", "constraint", "trigger"],
        create_trigger,
    ),
    (&["drop", "trigger"], drop_trigger),
    (&["create", "policy"], policy),
    (&["alter", "policy"], policy),
    (&["drop", "policy"], policy),
    (&["create", "rule"], rule),
    (&["create", "or", "replace", "rule"], rule),
    (&["drop", "rule"], policy),
    (&["refresh", "materialized", "view"], refresh),
    (&["comment", "on"], comment),
    (&["drop", "index"], drop_index),
    (&["do"], do_block),
    (&["table"], table),
    (&["commit", "prepared"], nothing),
    (&["rollback", "prepared"], nothing),
    (&["checkpoint"], nothing),
];

/// Runs the token command `tokens` starts with, if any.
pub(crate) fn infer(tokens: &[Token<'_>], schema: &Schema) -> Option<Found> {
    if let Some(found) = create_table_like(tokens) {
        return Some(found);
    }
    let (words, handler) = COMMANDS.iter().find(|(words, _)| {
        words
            .iter()
            .enumerate()
            .all(|(i, w)| tokens.get(i).is_some_and(|t| t.is_word(w)))
    })?;
    let mut cur = Cursor {
        toks: tokens,
        i: words.len(),
    };
    let mut found = Found::default();
    handler(&mut cur, schema, &mut found);
    Some(found)
}

/// A position in a token list with a few grammar helpers.
pub(crate) struct Cursor<'t, 'a> {
    pub toks: &'t [Token<'a>],
    pub i: usize,
}

impl<'a> Cursor<'_, 'a> {
    pub(crate) fn peek(&self) -> Option<&Token<'a>> {
        self.toks.get(self.i)
    }

    pub(crate) fn at_word(&self, kw: &str) -> bool {
        self.peek().is_some_and(|t| t.is_word(kw))
    }

    /// Consumes `kw` if it is next.
    pub(crate) fn eat(&mut self, kw: &str) -> bool {
        let yes = self.at_word(kw);
        if yes {
            self.i += 1;
        }
        yes
    }

    /// Consumes the words `kws` if they all come next.
    pub(crate) fn eat_all(&mut self, kws: &[&str]) -> bool {
        let yes = kws
            .iter()
            .enumerate()
            .all(|(k, w)| self.toks.get(self.i + k).is_some_and(|t| t.is_word(w)));
        if yes {
            self.i += kws.len();
        }
        yes
    }

    /// Skips a parenthesized group if one is next.
    pub(crate) fn skip_parens(&mut self) {
        if !self.peek().is_some_and(|t| t.is("(")) {
            return;
        }
        let mut depth = 0;
        while let Some(t) = self.peek() {
            if t.is("(") {
                depth += 1;
            } else if t.is(")") {
                depth -= 1;
                if depth == 0 {
                    self.i += 1;
                    return;
                }
            }
            self.i += 1;
        }
    }

    /// A possibly qualified name (`a`, `s.a`, `"S"."A"`), skipping `ONLY` before and `*` after.
    pub(crate) fn name(&mut self) -> Option<RelationName> {
        self.eat("only");
        let mut parts: Vec<(String, bool)> = Vec::new();
        loop {
            let t = self
                .peek()
                .filter(|t| matches!(t.kind, Kind::Word | Kind::QuotedIdent))?;
            parts.push((fold_ident(t), t.kind == Kind::QuotedIdent));
            self.i += 1;
            if self.peek().is_some_and(|t| t.is(".")) {
                self.i += 1;
            } else {
                break;
            }
        }
        if self.peek().is_some_and(|t| t.is("*")) {
            self.i += 1;
        }
        Some(RelationName::from_parts(
            parts.iter().map(|(p, q)| (p.as_str(), *q)),
        ))
    }

    /// Moves to the next `kw` at parenthesis depth 0; false if there is none.
    pub(crate) fn seek_word(&mut self, kw: &str) -> bool {
        let mut depth = 0i32;
        while let Some(t) = self.peek() {
            if t.is("(") {
                depth += 1;
            } else if t.is(")") {
                depth -= 1;
            } else if depth == 0 && t.is_word(kw) {
                self.i += 1;
                return true;
            }
            self.i += 1;
        }
        false
    }

    /// Whether the next token is `,` (consuming it).
    fn comma(&mut self) -> bool {
        let yes = self.peek().is_some_and(|t| t.is(","));
        if yes {
            self.i += 1;
        }
        yes
    }
}

fn nothing(_: &mut Cursor<'_, '_>, _: &Schema, _: &mut Found) {}

/// A list of `name [ (columns) ]`, comma-separated.
fn name_list(c: &mut Cursor<'_, '_>) -> Vec<RelationName> {
    let mut out = Vec::new();
    while let Some(n) = c.name() {
        out.push(n);
        c.skip_parens();
        if !c.comma() {
            break;
        }
    }
    out
}

/// Skips `( option [, …] )` returning whether `word` is among the options and not turned off.
fn options_with(c: &mut Cursor<'_, '_>, word: &str) -> bool {
    if !c.peek().is_some_and(|t| t.is("(")) {
        return false;
    }
    let start = c.i;
    c.skip_parens();
    let opts = &c.toks[start..c.i];
    opts.iter().enumerate().any(|(k, t)| {
        t.is_word(word)
            && !opts
                .get(k + 1)
                .is_some_and(|n| n.is_word("false") || n.is_word("off") || n.text == "0")
    })
}

/// sql-vacuum.html: SHARE UPDATE EXCLUSIVE; `FULL` rewrites the table: ACCESS EXCLUSIVE (plus the
/// index rebuild's SHARE). Without table names it processes every table (no locks modelled).
fn vacuum(c: &mut Cursor<'_, '_>, _: &Schema, f: &mut Found) {
    let mut full = options_with(c, "full");
    while let Some(t) = c.peek() {
        if t.is_word("full") {
            full = true;
        } else if !["freeze", "verbose", "analyze", "analyse"]
            .iter()
            .any(|w| t.is_word(w))
        {
            break;
        }
        c.i += 1;
    }
    for rel in name_list(c) {
        if full {
            f.locks.table(&rel, Mode::AccessExclusive);
            f.locks.table(&rel, INDEX_BUILD);
        } else {
            f.locks.table(&rel, Mode::ShareUpdateExclusive);
        }
    }
}

/// sql-analyze.html: SHARE UPDATE EXCLUSIVE on each table.
fn analyze(c: &mut Cursor<'_, '_>, _: &Schema, f: &mut Found) {
    options_with(c, "verbose");
    c.eat("verbose");
    for rel in name_list(c) {
        f.locks.table(&rel, Mode::ShareUpdateExclusive);
    }
}

/// sql-cluster.html: ACCESS EXCLUSIVE (and SHARE while the indexes are rebuilt).
/// `CLUSTER t [USING i]`, or the old `CLUSTER i ON t`.
fn cluster(c: &mut Cursor<'_, '_>, _: &Schema, f: &mut Found) {
    options_with(c, "verbose");
    c.eat("verbose");
    let Some(first) = c.name() else { return };
    let table = if c.eat("on") {
        c.name().unwrap_or(first)
    } else {
        first
    };
    f.locks.table(&table, Mode::AccessExclusive);
    f.locks.table(&table, INDEX_BUILD);
}

/// sql-reindex.html: `REINDEX TABLE|INDEX` takes SHARE on the table (ACCESS EXCLUSIVE on the
/// index only); `CONCURRENTLY` takes SHARE UPDATE EXCLUSIVE. SCHEMA/DATABASE/SYSTEM forms lock
/// tables lockgraph cannot list.
fn reindex(c: &mut Cursor<'_, '_>, schema: &Schema, f: &mut Found) {
    options_with(c, "verbose");
    let index = c.eat("index");
    if !index && !c.eat("table") {
        f.problem = Some((
            DiagnosticKind::UnmodelledStatement,
            "REINDEX SCHEMA/DATABASE/SYSTEM locks tables lockgraph cannot list".into(),
        ));
        return;
    }
    let concurrently = c.eat("concurrently");
    let Some(name) = c.name() else { return };
    let table = if index {
        index_table(schema, &name).unwrap_or(name)
    } else {
        name
    };
    f.locks.table(
        &table,
        if concurrently {
            Mode::ShareUpdateExclusive
        } else {
            Mode::Share
        },
    );
}

/// sql-createstatistics.html: SHARE UPDATE EXCLUSIVE on the table.
fn create_statistics(c: &mut Cursor<'_, '_>, _: &Schema, f: &mut Found) {
    if c.seek_word("from")
        && let Some(rel) = c.name()
    {
        f.locks.table(&rel, Mode::ShareUpdateExclusive);
    }
}

/// sql-createtrigger.html: SHARE ROW EXCLUSIVE on the table.
fn create_trigger(c: &mut Cursor<'_, '_>, _: &Schema, f: &mut Found) {
    if c.seek_word("on")
        && let Some(rel) = c.name()
    {
        f.locks.table(&rel, Mode::ShareRowExclusive);
    }
}

/// DROP TRIGGER: ACCESS EXCLUSIVE on the table (and ACCESS SHARE while looking the trigger up).
fn drop_trigger(c: &mut Cursor<'_, '_>, _: &Schema, f: &mut Found) {
    if c.seek_word("on")
        && let Some(rel) = c.name()
    {
        f.locks.table(&rel, Mode::AccessExclusive);
        f.locks.table(&rel, Mode::AccessShare);
    }
}

/// CREATE/ALTER/DROP POLICY, DROP RULE: ACCESS EXCLUSIVE on the table (`… name ON table`).
fn policy(c: &mut Cursor<'_, '_>, _: &Schema, f: &mut Found) {
    if c.seek_word("on")
        && let Some(rel) = c.name()
    {
        f.locks.table(&rel, Mode::AccessExclusive);
    }
}

/// CREATE RULE name AS ON event TO table: ACCESS EXCLUSIVE on the table.
fn rule(c: &mut Cursor<'_, '_>, _: &Schema, f: &mut Found) {
    if c.seek_word("to")
        && let Some(rel) = c.name()
    {
        f.locks.table(&rel, Mode::AccessExclusive);
    }
}

/// sql-refreshmaterializedview.html: ACCESS EXCLUSIVE; CONCURRENTLY: EXCLUSIVE. The server also
/// shows ACCESS SHARE, EXCLUSIVE and SHARE (plain) or ACCESS SHARE and ROW EXCLUSIVE (concurrent,
/// which applies a diff) on the view. Tables the view reads get ACCESS SHARE, but lockgraph does
/// not keep view definitions.
fn refresh(c: &mut Cursor<'_, '_>, _: &Schema, f: &mut Found) {
    let concurrently = c.eat("concurrently");
    let Some(view) = c.name() else { return };
    let modes: &[Mode] = if concurrently {
        &[Mode::Exclusive, Mode::AccessShare, Mode::RowExclusive]
    } else {
        &[
            Mode::AccessExclusive,
            Mode::AccessShare,
            Mode::Exclusive,
            Mode::Share,
        ]
    };
    for m in modes {
        f.locks.table(&view, *m);
    }
}

/// COMMENT ON TABLE/COLUMN/MATERIALIZED VIEW: SHARE UPDATE EXCLUSIVE on the relation.
fn comment(c: &mut Cursor<'_, '_>, _: &Schema, f: &mut Found) {
    let column = c.eat("column");
    if !column
        && !c.eat("table")
        && !c.eat_all(&["materialized", "view"])
        && !c.eat_all(&["foreign", "table"])
    {
        return;
    }
    let mut parts: Vec<(String, bool)> = Vec::new();
    while let Some(t) = c
        .peek()
        .filter(|t| matches!(t.kind, Kind::Word | Kind::QuotedIdent))
    {
        parts.push((fold_ident(t), t.kind == Kind::QuotedIdent));
        c.i += 1;
        if !c.peek().is_some_and(|t| t.is(".")) {
            break;
        }
        c.i += 1;
    }
    if column {
        parts.pop();
    }
    if !parts.is_empty() {
        let rel = RelationName::from_parts(parts.iter().map(|(p, q)| (p.as_str(), *q)));
        f.locks.table(&rel, Mode::ShareUpdateExclusive);
    }
}

/// sql-dropindex.html: ACCESS EXCLUSIVE on the index's table; CONCURRENTLY: SHARE UPDATE EXCLUSIVE.
fn drop_index(c: &mut Cursor<'_, '_>, schema: &Schema, f: &mut Found) {
    let concurrently = c.eat("concurrently");
    c.eat_all(&["if", "exists"]);
    let mode = if concurrently {
        Mode::ShareUpdateExclusive
    } else {
        Mode::AccessExclusive
    };
    while let Some(idx) = c.name() {
        f.locks
            .table(&index_table(schema, &idx).unwrap_or(idx), mode);
        if !c.comma() {
            break;
        }
    }
}

fn do_block(_: &mut Cursor<'_, '_>, _: &Schema, f: &mut Found) {
    f.problem = Some((
        DiagnosticKind::UnmodelledStatement,
        "DO blocks run procedural code whose statements lockgraph does not analyse".into(),
    ));
}

/// `TABLE t` is `SELECT * FROM t`.
fn table(c: &mut Cursor<'_, '_>, _: &Schema, f: &mut Found) {
    if let Some(rel) = c.name() {
        f.locks.table(&rel, Mode::AccessShare);
    }
}

/// Extra locks an ALTER TABLE subcommand takes beyond its mode on the altered table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Extra {
    None,
    /// An index is built or the table rewritten: SHARE on the table.
    IndexBuild,
    /// A foreign key is added (see [`alter_table`]).
    ForeignKey,
    /// `ADD [COLUMN]`: a volatile default rewrites the table, `REFERENCES` adds a foreign key.
    AddColumn,
    /// `ALTER [COLUMN] c TYPE t`: rewrites the table unless the type only widens.
    AlterType,
    /// `ATTACH`/`DETACH PARTITION p`: this mode on the partition.
    Partition(Mode),
    /// `VALIDATE CONSTRAINT c`: the validating scan.
    Validate,
    /// `DROP CONSTRAINT c`: a foreign key's referenced table loses its triggers.
    DropConstraint,
}

/// ALTER TABLE subcommands → lock on the altered table, from sql-altertable.html (each form's
/// "lock level" note; a command with several subcommands takes the strongest) and pinned by the
/// oracle test. A pattern matches the subcommand's leading tokens (`COLUMN` after ALTER/ADD/DROP/
/// RENAME removed): `*` is any one name, `(` a parenthesis. First match wins.
const ALTER_TABLE_ACTIONS: &[(&str, Mode, Extra)] = &[
    // "ADD table_constraint … FOREIGN KEY: SHARE ROW EXCLUSIVE" (also on the referenced table).
    (
        "add constraint * foreign key",
        Mode::ShareRowExclusive,
        Extra::ForeignKey,
    ),
    (
        "add foreign key",
        Mode::ShareRowExclusive,
        Extra::ForeignKey,
    ),
    // Other constraints: ACCESS EXCLUSIVE; PK/UNIQUE/EXCLUDE build an index.
    (
        "add constraint * primary key",
        Mode::AccessExclusive,
        Extra::IndexBuild,
    ),
    (
        "add constraint * unique",
        Mode::AccessExclusive,
        Extra::IndexBuild,
    ),
    (
        "add constraint * exclude",
        Mode::AccessExclusive,
        Extra::IndexBuild,
    ),
    ("add primary key", Mode::AccessExclusive, Extra::IndexBuild),
    ("add unique", Mode::AccessExclusive, Extra::IndexBuild),
    ("add exclude", Mode::AccessExclusive, Extra::IndexBuild),
    ("add constraint", Mode::AccessExclusive, Extra::None),
    ("add check", Mode::AccessExclusive, Extra::None),
    // ADD [COLUMN]: ACCESS EXCLUSIVE (a volatile DEFAULT also rewrites the table).
    ("add", Mode::AccessExclusive, Extra::AddColumn),
    // "VALIDATE CONSTRAINT: SHARE UPDATE EXCLUSIVE".
    (
        "validate constraint",
        Mode::ShareUpdateExclusive,
        Extra::Validate,
    ),
    // "SET STATISTICS", "SET ( attribute_option … )": SHARE UPDATE EXCLUSIVE.
    (
        "alter * set statistics",
        Mode::ShareUpdateExclusive,
        Extra::None,
    ),
    ("alter * set (", Mode::ShareUpdateExclusive, Extra::None),
    ("alter * reset (", Mode::ShareUpdateExclusive, Extra::None),
    // SET DATA TYPE: ACCESS EXCLUSIVE; a rewrite also rebuilds the indexes.
    ("alter * type", Mode::AccessExclusive, Extra::AlterType),
    (
        "alter * set data type",
        Mode::AccessExclusive,
        Extra::AlterType,
    ),
    // SET/DROP DEFAULT, SET/DROP NOT NULL, SET STORAGE, identity, ALTER CONSTRAINT: ACCESS EXCLUSIVE.
    ("alter", Mode::AccessExclusive, Extra::None),
    // "SET ( storage_parameter … )": fillfactor, autovacuum and most others: SHARE UPDATE EXCLUSIVE.
    ("set (", Mode::ShareUpdateExclusive, Extra::None),
    ("reset (", Mode::ShareUpdateExclusive, Extra::None),
    // "CLUSTER ON", "SET WITHOUT CLUSTER": SHARE UPDATE EXCLUSIVE.
    ("cluster on", Mode::ShareUpdateExclusive, Extra::None),
    (
        "set without cluster",
        Mode::ShareUpdateExclusive,
        Extra::None,
    ),
    // "ENABLE/DISABLE [ REPLICA | ALWAYS ] TRIGGER": SHARE ROW EXCLUSIVE.
    ("enable trigger", Mode::ShareRowExclusive, Extra::None),
    (
        "enable replica trigger",
        Mode::ShareRowExclusive,
        Extra::None,
    ),
    (
        "enable always trigger",
        Mode::ShareRowExclusive,
        Extra::None,
    ),
    ("disable trigger", Mode::ShareRowExclusive, Extra::None),
    // "ATTACH PARTITION": SHARE UPDATE EXCLUSIVE on the parent, ACCESS EXCLUSIVE on the partition.
    (
        "attach partition",
        Mode::ShareUpdateExclusive,
        Extra::Partition(Mode::AccessExclusive),
    ),
    // "DETACH PARTITION … CONCURRENTLY / FINALIZE": SHARE UPDATE EXCLUSIVE on both.
    (
        "detach partition * concurrently",
        Mode::ShareUpdateExclusive,
        Extra::Partition(Mode::ShareUpdateExclusive),
    ),
    (
        "detach partition * finalize",
        Mode::ShareUpdateExclusive,
        Extra::Partition(Mode::ShareUpdateExclusive),
    ),
    // "DETACH PARTITION": ACCESS EXCLUSIVE on both.
    (
        "detach partition",
        Mode::AccessExclusive,
        Extra::Partition(Mode::AccessExclusive),
    ),
    // SET UNLOGGED / LOGGED rewrite the table.
    ("set unlogged", Mode::AccessExclusive, Extra::IndexBuild),
    ("set logged", Mode::AccessExclusive, Extra::IndexBuild),
    (
        "drop constraint",
        Mode::AccessExclusive,
        Extra::DropConstraint,
    ),
    // Everything else (DROP, RENAME, OWNER TO, SET SCHEMA/TABLESPACE, REPLICA IDENTITY,
    // [NO] INHERIT, row level security, rules, OF …): ACCESS EXCLUSIVE, the documented default.
];

/// `ALTER TABLE [IF EXISTS] [ONLY] name [*] action [, …]`.
fn alter_table(c: &mut Cursor<'_, '_>, schema: &Schema, f: &mut Found) {
    if c.at_word("all") {
        f.problem = Some((
            DiagnosticKind::UnmodelledStatement,
            "ALTER TABLE ALL IN TABLESPACE locks tables lockgraph cannot list".into(),
        ));
        return;
    }
    c.eat_all(&["if", "exists"]);
    let Some(table) = c.name() else { return };
    let actions = split_actions(&c.toks[c.i..]);
    let mut mode: Option<Mode> = None;
    let mut extra_locks: Vec<(RelationName, Mode)> = Vec::new();
    for action in &actions {
        let (m, extra) = classify(action);
        mode = mode.max(Some(m));
        match extra {
            Extra::None => {}
            Extra::IndexBuild => extra_locks.push((table.clone(), INDEX_BUILD)),
            Extra::AlterType => {
                if type_change_rewrites(schema, &table, action) {
                    extra_locks.push((table.clone(), INDEX_BUILD));
                }
            }
            Extra::AddColumn | Extra::ForeignKey => {
                if extra == Extra::AddColumn && adds_volatile_default(action) {
                    extra_locks.push((table.clone(), INDEX_BUILD));
                }
                // Both tables are opened (ACCESS SHARE) and locked SHARE ROW EXCLUSIVE; a valid
                // constraint on existing rows is checked with a join that takes ROW SHARE on the
                // referenced table. A new column (ADD COLUMN … REFERENCES) holds only NULLs.
                let mut cur = Cursor { toks: action, i: 0 };
                if !cur.seek_word("references") {
                    continue;
                }
                let new_column = extra == Extra::AddColumn;
                let Some(parent) = cur.name() else { continue };
                let not_valid = action
                    .windows(2)
                    .any(|w| w[0].is_word("not") && w[1].is_word("valid"));
                extra_locks.push((table.clone(), Mode::ShareRowExclusive));
                extra_locks.push((table.clone(), Mode::AccessShare));
                extra_locks.push((parent.clone(), Mode::AccessShare));
                extra_locks.push((parent.clone(), Mode::ShareRowExclusive));
                if !not_valid && !new_column {
                    extra_locks.push((parent, Mode::RowShare));
                }
            }
            Extra::Partition(pm) => {
                let mut cur = Cursor { toks: action, i: 2 };
                if let Some(p) = cur.name() {
                    extra_locks.push((p, pm));
                }
            }
            Extra::Validate => {
                // The validating scan reads the table; a foreign key's also joins the referenced
                // table (ROW SHARE, like the per-row check).
                extra_locks.push((table.clone(), Mode::AccessShare));
                if let Some(parent) = constraint_parent(schema, &table, action) {
                    extra_locks.push((parent.clone(), Mode::AccessShare));
                    extra_locks.push((parent, Mode::RowShare));
                }
            }
            Extra::DropConstraint => {
                if let Some(parent) = constraint_parent(schema, &table, action) {
                    extra_locks.push((parent, Mode::AccessExclusive));
                }
            }
        }
    }
    if let Some(m) = mode {
        f.locks.table(&table, m);
    }
    for (rel, m) in extra_locks {
        f.locks.table(&rel, m);
    }
}

/// Splits the actions of an ALTER TABLE on commas outside parentheses, dropping a `COLUMN` noise
/// word after ALTER/ADD/DROP/RENAME and `IF [NOT] EXISTS`.
fn split_actions<'t, 'a>(toks: &'t [Token<'a>]) -> Vec<Vec<Token<'a>>> {
    let mut out: Vec<Vec<Token<'a>>> = vec![Vec::new()];
    let mut depth = 0i32;
    for t in toks {
        if t.is("(") {
            depth += 1;
        } else if t.is(")") {
            depth -= 1;
        } else if depth == 0 && t.is(",") {
            out.push(Vec::new());
            continue;
        }
        if let Some(cur) = out.last_mut() {
            cur.push(*t);
        }
    }
    for a in &mut out {
        if a.len() > 1
            && a[1].is_word("column")
            && ["alter", "add", "drop", "rename"]
                .iter()
                .any(|w| a[0].is_word(w))
        {
            a.remove(1);
        }
    }
    out.retain(|a| !a.is_empty());
    out
}

fn classify(action: &[Token<'_>]) -> (Mode, Extra) {
    for (pattern, mode, extra) in ALTER_TABLE_ACTIONS {
        let matched = pattern.split(' ').enumerate().all(|(k, p)| {
            action.get(k).is_some_and(|t| match p {
                "*" => matches!(t.kind, Kind::Word | Kind::QuotedIdent),
                "(" => t.is("("),
                word => t.is_word(word),
            })
        });
        if matched {
            return (*mode, *extra);
        }
    }
    (Mode::AccessExclusive, Extra::None)
}

/// The referenced table of a foreign-key constraint named in `VALIDATE/DROP CONSTRAINT name`,
/// recognised by PostgreSQL's default name `<table>_<columns>_fkey` (lockgraph's schema does not
/// keep constraint names).
fn constraint_parent(
    schema: &Schema,
    table: &RelationName,
    action: &[Token<'_>],
) -> Option<RelationName> {
    let mut cur = Cursor { toks: action, i: 2 };
    cur.eat_all(&["if", "exists"]);
    let name = cur
        .peek()
        .filter(|t| matches!(t.kind, Kind::Word | Kind::QuotedIdent))
        .map(fold_ident)?;
    let bare = table.as_str().rsplit('.').next().unwrap_or_default();
    schema.table(table)?.foreign_keys.iter().find_map(|fk| {
        let cols: Vec<&str> = fk.columns.iter().map(|c| &**c).collect();
        (name == format!("{bare}_{}_fkey", cols.join("_"))).then(|| fk.parent.clone())
    })
}

/// Column defaults whose value differs per row, so `ADD COLUMN … DEFAULT` rewrites the table
/// (and rebuilds its indexes): volatile functions, serial types (a `nextval` default), identity
/// and stored generated columns. A constant or STABLE default (`now()`) is stored once instead.
const VOLATILE_DEFAULTS: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "serial",
    "bigserial",
    "smallserial",
    "serial2",
    "serial4",
    "serial8",
    "identity",
    "stored",
];

fn adds_volatile_default(action: &[Token<'_>]) -> bool {
    action
        .iter()
        .any(|t| VOLATILE_DEFAULTS.iter().any(|w| t.is_word(w)))
}

/// Type names PostgreSQL spells several ways, to their canonical names.
const TYPE_ALIASES: &[(&str, &str)] = &[
    ("character varying", "varchar"),
    ("int", "integer"),
    ("int4", "integer"),
    ("int8", "bigint"),
    ("int2", "smallint"),
    ("decimal", "numeric"),
    ("float8", "double precision"),
    ("float4", "real"),
    ("bool", "boolean"),
    ("timestamptz", "timestamp with time zone"),
    ("character", "char"),
    ("bpchar", "char"),
];

/// A type's name without modifiers (`numeric(12,2)` → `numeric`), canonical.
fn base_type(written: &str) -> String {
    let head = written
        .split('(')
        .next()
        .unwrap_or(written)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let head = head.to_lowercase();
    TYPE_ALIASES
        .iter()
        .find(|(a, _)| *a == head)
        .map(|(_, c)| c.to_string())
        .unwrap_or(head)
}

/// Whether `ALTER COLUMN c TYPE t` rewrites the table (sql-altertable.html, "Notes"): not when
/// only a length or precision limit changes within one type (assumed to widen), nor from
/// `varchar` to `text`; otherwise, or when the old type is unknown, it does.
fn type_change_rewrites(schema: &Schema, table: &RelationName, action: &[Token<'_>]) -> bool {
    let Some(column) = action
        .get(1)
        .filter(|t| matches!(t.kind, Kind::Word | Kind::QuotedIdent))
        .map(fold_ident)
    else {
        return true;
    };
    let Some(old) = schema
        .table(table)
        .and_then(|t| t.column(&column))
        .map(|c| c.data_type.to_string())
    else {
        return true;
    };
    let start = action
        .iter()
        .position(|t| t.is_word("type"))
        .map(|p| p + 1)
        .unwrap_or(action.len());
    let new: Vec<&str> = action[start..]
        .iter()
        .take_while(|t| !t.is_word("using") && !t.is_word("collate"))
        .map(|t| t.text)
        .collect();
    let (old, new) = (base_type(&old), base_type(&new.join(" ")));
    let widens = old == new && !old.is_empty();
    let to_text = old == "varchar" && new == "text";
    !(widens || to_text)
}

/// `CREATE TABLE t (LIKE s INCLUDING …)`, whose options sqlparser 0.64 rejects: ACCESS SHARE on
/// the source (the new table's own locks are left out, see `ddl::create_table`).
pub(crate) fn create_table_like(tokens: &[Token<'_>]) -> Option<Found> {
    let mut c = Cursor { toks: tokens, i: 0 };
    if !c.eat("create") || !c.seek_word("table") {
        return None;
    }
    let like = tokens
        .windows(2)
        .position(|w| w[0].is("(") && w[1].is_word("like"))?;
    if !tokens
        .iter()
        .any(|t| t.is_word("including") || t.is_word("excluding"))
    {
        return None;
    }
    let mut src = Cursor {
        toks: tokens,
        i: like + 2,
    };
    let source = src.name()?;
    let mut f = Found::default();
    f.locks.table(&source, Mode::AccessShare);
    Some(f)
}
