//! Generates a large, realistic PostgreSQL 15 stderr log for the `lockgraph logs` benchmark
//! (`scripts/bench-logs.sh`).
//!
//! ```text
//! cargo run --release -p lockgraph_logs --example gen_log -- --size-mb 1024 --out FILE \
//!     [--seed N] [--gzip] [--sessions N] [--shapes N] [--deadlock-every N] [--wait-every N] \
//!     [--reconnect-every N]
//! ```
//!
//! The server it imitates runs with
//! `log_line_prefix = '%m [%p] %q%u@%d '`, `log_statement = 'all'`, `log_lock_waits = on`,
//! `deadlock_timeout = 1s`, `log_min_duration_statement = 250ms`, default `log_error_verbosity`.
//! Every entry form was checked against a real PostgreSQL 15 server (see the table below).
//!
//! What the log contains:
//! - hundreds of concurrent sessions (`--sessions`, default 300) whose entries interleave; sessions
//!   reconnect now and then (an idle session reconnects with chance 1/`--reconnect-every`,
//!   default 400, 0 = never; connection logging is off, as by default) and pids are drawn from
//!   1000..32768 like Linux's, so pids are reused over time;
//! - simple-protocol clients (`LOG:  statement: …`), extended-protocol clients (`LOG:  execute
//!   <unnamed>: …` / `execute S_n: …` + `DETAIL:  parameters: $1 = '42', …`), and a reporting role
//!   with `log_statement = none` whose slow statements appear only as `LOG:  duration: … ms
//!   statement: …`;
//! - a few thousand statement shapes (`--shapes`) over 50 tables, in several ORM styles
//!   (plain, Django-quoted, Hibernate aliases, multi-line with TAB continuation lines, trailing
//!   comments), with varying literals;
//! - BEGIN … COMMIT transactions of 1–8 statements (some ROLLBACK, SAVEPOINT, SET LOCAL) and
//!   autocommit statements; `LOG:  duration: … ms` after slow statements;
//! - errors: unique and foreign-key violations, NOWAIT failures, statement timeouts, syntax errors
//!   (logged without a preceding `statement:` line, as the server does), aborted transactions;
//! - lock waits (`--wait-every` transactions, default 2,000): `still waiting` / `acquired` on
//!   transactions, tuples and relations, one or several holders, lock timeouts;
//! - deadlocks (`--deadlock-every` transactions, default 50,000): 2- and 3-process row cycles,
//!   share-lock upgrades and relation-lock cycles, with `detected deadlock while waiting`, the
//!   `ERROR:  deadlock detected` report (DETAIL with TAB lines, HINT, CONTEXT, STATEMENT), and the
//!   survivors' `acquired` and `duration` lines. Every participant's earlier statements appear
//!   before the report, in its own pid, consistent with its transaction;
//! - checkpointer and autovacuum entries (no `user@db`: `%q` ends the prefix for them).
//!
//! Output is deterministic for a given seed and options. A summary (`key=value` pairs, including
//! the number of deadlock reports written) goes to stderr.
//!
//! Real-server facts this generator follows (PostgreSQL 15.20, checked by hand):
//! - lock-wait `LOG` entries (`still waiting`, `acquired`, `detected deadlock while waiting`)
//!   end with a `STATEMENT:` line; `duration:` and statement-logging entries do not;
//! - `detected deadlock while waiting` says `Wait queue: .` (empty) and is followed, same
//!   timestamp, by the `ERROR:  deadlock detected` entry;
//! - relation-lock and tuple-lock waits have no `CONTEXT:`; transaction waits have
//!   `while updating|locking|deleting tuple (b,o) in relation "t"`;
//! - in extended protocol the `Process N:` lines and `STATEMENT:` show `$1` placeholders, never
//!   the parameters;
//! - a newline inside a message (multi-line SQL, the deadlock DETAIL) becomes newline + TAB.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::fs::File;
use std::io::{self, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Instant;

// ---------------------------------------------------------------------------------------------
// Command line

struct Args {
    size_mb: u64,
    out: String,
    seed: u64,
    gzip: bool,
    sessions: usize,
    shapes: usize,
    deadlock_every: u64,
    wait_every: u64,
    reconnect_every: u64,
}

const USAGE: &str = "usage: gen_log --size-mb N --out FILE [--seed N] [--gzip] [--sessions N] \
[--shapes N] [--deadlock-every N] [--wait-every N] [--reconnect-every N]   (FILE may be - for stdout)";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        size_mb: 0,
        out: String::new(),
        seed: 42,
        gzip: false,
        sessions: 300,
        shapes: 3000,
        deadlock_every: 50_000,
        wait_every: 2_000,
        reconnect_every: 400,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--gzip" {
            a.gzip = true;
            continue;
        }
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        const VALUED: &[&str] = &[
            "--size-mb",
            "--out",
            "--seed",
            "--sessions",
            "--shapes",
            "--deadlock-every",
            "--wait-every",
            "--reconnect-every",
        ];
        if !VALUED.contains(&flag.as_str()) {
            return Err(format!("unknown option {flag}"));
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = || -> Result<u64, String> {
            value
                .replace('_', "")
                .parse::<u64>()
                .map_err(|e| format!("{flag} {value}: {e}"))
        };
        match flag.as_str() {
            "--size-mb" => a.size_mb = num()?,
            "--out" => a.out = value.clone(),
            "--seed" => a.seed = num()?,
            "--sessions" => a.sessions = num()?.clamp(4, 20_000) as usize,
            "--shapes" => a.shapes = num()?.clamp(100, 100_000) as usize,
            "--deadlock-every" => a.deadlock_every = num()?.max(2),
            "--wait-every" => a.wait_every = num()?.max(2),
            "--reconnect-every" => a.reconnect_every = num()?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if a.size_mb == 0 || a.out.is_empty() {
        return Err("--size-mb and --out are required".into());
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------------
// Random numbers: xorshift64* seeded through splitmix64.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 1 } else { z })
    }
    #[inline]
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (n > 0).
    #[inline]
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
    #[inline]
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    #[inline]
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
    #[inline]
    fn pct(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
    #[inline]
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    /// In `0..n`, skewed toward 0 (popular items first).
    #[inline]
    fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n as u64);
        let b = self.below(n as u64);
        (a * b / n as u64) as usize
    }
}

// ---------------------------------------------------------------------------------------------
// Small formatting helpers (no allocation).

#[inline]
fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

#[inline]
fn push_2(buf: &mut Vec<u8>, n: u64) {
    buf.push(b'0' + (n / 10 % 10) as u8);
    buf.push(b'0' + (n % 10) as u8);
}

#[inline]
fn push_3(buf: &mut Vec<u8>, n: u64) {
    buf.push(b'0' + (n / 100 % 10) as u8);
    push_2(buf, n);
}

/// Microseconds as PostgreSQL prints milliseconds: `1000.186`.
fn push_ms(buf: &mut Vec<u8>, us: u64) {
    push_u64(buf, us / 1000);
    buf.push(b'.');
    push_3(buf, us % 1000);
}

/// Appends `s` with every newline followed by a TAB, as the server writes multi-line messages.
fn push_tabbed(buf: &mut Vec<u8>, s: &str) {
    for &c in s.as_bytes() {
        buf.push(c);
        if c == b'\n' {
            buf.push(b'\t');
        }
    }
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u64, u64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// ---------------------------------------------------------------------------------------------
// Output: one big buffer, written out in 4 MiB chunks to a file, stdout or a gzip child.

enum Sink {
    File(File),
    Stdout(io::Stdout),
    Gzip(Child, Option<ChildStdin>),
}

const FLUSH_AT: usize = 4 << 20;

struct Out {
    buf: Vec<u8>,
    sink: Sink,
    flushed: u64,
    entries: u64,
    error: Option<io::Error>,
    /// Log clock, microseconds since the first entry.
    clock: u64,
    base_unix: i64,
    cached_sec: u64,
    /// `YYYY-MM-DD HH:MM:SS.` of `cached_sec`.
    head: [u8; 20],
}

impl Out {
    fn new(sink: Sink, base_unix: i64) -> Out {
        let mut o = Out {
            buf: Vec::with_capacity(FLUSH_AT + (1 << 16)),
            sink,
            flushed: 0,
            entries: 0,
            error: None,
            clock: 0,
            base_unix,
            cached_sec: u64::MAX,
            head: [0; 20],
        };
        o.set_sec(0);
        o
    }

    fn set_sec(&mut self, sec: u64) {
        let unix = self.base_unix + sec as i64;
        let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
        let s = unix.rem_euclid(86_400) as u64;
        let mut v = Vec::with_capacity(20);
        push_u64(&mut v, y as u64);
        v.push(b'-');
        push_2(&mut v, m);
        v.push(b'-');
        push_2(&mut v, d);
        v.push(b' ');
        push_2(&mut v, s / 3600);
        v.push(b':');
        push_2(&mut v, s / 60 % 60);
        v.push(b':');
        push_2(&mut v, s % 60);
        v.push(b'.');
        self.head.copy_from_slice(&v[..20]);
        self.cached_sec = sec;
    }

    /// Starts an entry: `%m [%p] %q%u@%d ` (`who` is `[pid] user@db ` or `[pid] `).
    #[inline]
    fn begin(&mut self, who: &[u8]) {
        let sec = self.clock / 1_000_000;
        if sec != self.cached_sec {
            self.set_sec(sec);
        }
        let ms = self.clock / 1000 % 1000;
        self.buf.extend_from_slice(&self.head);
        push_3(&mut self.buf, ms);
        self.buf.extend_from_slice(b" UTC ");
        self.buf.extend_from_slice(who);
        self.entries += 1;
    }

    #[inline]
    fn s(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    #[inline]
    fn end(&mut self) {
        self.buf.push(b'\n');
        if self.buf.len() >= FLUSH_AT {
            self.flush();
        }
    }

    fn line(&mut self, who: &[u8], body: &[u8]) {
        self.begin(who);
        self.s(body);
        self.end();
    }

    fn total(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    fn flush(&mut self) {
        if self.error.is_none() && !self.buf.is_empty() {
            let r = match &mut self.sink {
                Sink::File(f) => f.write_all(&self.buf),
                Sink::Stdout(s) => s.write_all(&self.buf),
                Sink::Gzip(_, Some(stdin)) => stdin.write_all(&self.buf),
                Sink::Gzip(_, None) => Ok(()),
            };
            if let Err(e) = r {
                self.error = Some(e);
            }
        }
        self.flushed += self.buf.len() as u64;
        self.buf.clear();
    }

    fn finish(mut self) -> io::Result<()> {
        self.flush();
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        match self.sink {
            Sink::File(mut f) => f.flush(),
            Sink::Stdout(mut s) => s.flush(),
            Sink::Gzip(mut child, stdin) => {
                drop(stdin);
                let status = child.wait()?;
                if status.success() {
                    Ok(())
                } else {
                    Err(io::Error::other(format!("gzip exited with {status}")))
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Schema: 50 tables. Column kinds: I reference (bigint), Q quantity, N money, S word, W status,
// C code, E email, T timestamp, B boolean.

const TABLES: &[&str] = &[
    "customers:email E,name S,status W,created_at T,updated_at T",
    "accounts:customer_id I,balance N,currency C,updated_at T",
    "ledger:account_id I,amount N,kind W,created_at T",
    "orders:customer_id I,status W,total N,created_at T,updated_at T",
    "order_items:order_id I,product_id I,quantity Q,price N",
    "products:sku C,name S,price N,active B,updated_at T",
    "inventory:product_id I,warehouse_id I,quantity Q,reserved Q,updated_at T",
    "warehouses:name S,region S",
    "payments:order_id I,amount N,status W,provider S,created_at T",
    "refunds:payment_id I,amount N,reason S,created_at T",
    "invoices:order_id I,number C,total N,issued_at T",
    "shipments:order_id I,carrier S,tracking C,status W,shipped_at T",
    "addresses:customer_id I,city S,country C,zip C",
    "carts:customer_id I,updated_at T",
    "cart_items:cart_id I,product_id I,quantity Q",
    "coupons:code C,discount N,uses Q,expires_at T",
    "coupon_redemptions:coupon_id I,order_id I,created_at T",
    "reviews:product_id I,customer_id I,rating Q,body S",
    "categories:name S,parent_id I",
    "product_categories:product_id I,category_id I",
    "suppliers:name S,email E",
    "purchase_orders:supplier_id I,status W,total N,updated_at T",
    "stock_movements:product_id I,warehouse_id I,delta Q,created_at T",
    "users:email E,name S,last_login_at T,active B",
    "sessions:user_id I,token C,expires_at T",
    "roles:name S",
    "user_roles:user_id I,role_id I",
    "audit_log:user_id I,action S,entity S,created_at T",
    "notifications:user_id I,kind W,read B,created_at T",
    "emails_outbox:to_addr E,subject S,status W,attempts Q",
    "jobs:queue S,status W,attempts Q,run_at T",
    "job_runs:job_id I,status W,started_at T",
    "webhooks:url S,secret C,active B",
    "webhook_deliveries:webhook_id I,status W,attempts Q,created_at T",
    "subscriptions:customer_id I,plan_id I,status W,renews_at T,updated_at T",
    "plans:name S,price N",
    "usage_records:subscription_id I,quantity Q,recorded_at T",
    "api_keys:user_id I,prefix C,revoked B",
    "feature_flags:name S,enabled B",
    "settings:key S,value S,updated_at T",
    "tax_rates:country C,rate N",
    "currencies:code C,rate N",
    "price_history:product_id I,price N,valid_from T",
    "loyalty_points:customer_id I,points Q,updated_at T",
    "gift_cards:code C,balance N,customer_id I",
    "returns:order_id I,status W,reason S",
    "support_tickets:customer_id I,status W,subject S,updated_at T",
    "ticket_messages:ticket_id I,author_id I,body S,created_at T",
    "search_queries:query S,results Q,created_at T",
    "counters:name S,value Q",
];

const DB_OID: u32 = 16384;

struct Table {
    name: String,
    alias: String,
    /// Excluding `id`.
    cols: Vec<(String, u8)>,
    /// For `I` columns: the referenced table.
    parents: Vec<Option<usize>>,
    oid: u32,
    has_updated_at: bool,
}

fn load_tables() -> Vec<Table> {
    let mut tables: Vec<Table> = TABLES
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let (name, cols) = spec.split_once(':').unwrap_or((spec, ""));
            let cols: Vec<(String, u8)> = cols
                .split(',')
                .filter_map(|c| c.split_once(' '))
                .map(|(n, k)| (n.to_string(), k.as_bytes()[0]))
                .collect();
            let alias: String = name.split('_').filter_map(|w| w.chars().next()).collect();
            Table {
                name: name.to_string(),
                alias,
                has_updated_at: cols.iter().any(|c| c.0 == "updated_at"),
                parents: vec![None; cols.len()],
                cols,
                oid: 16_385 + 3 * i as u32,
            }
        })
        .collect();
    let names: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
    for t in &mut tables {
        for (j, (c, k)) in t.cols.iter().enumerate() {
            if *k != b'I' {
                continue;
            }
            let stem = c.trim_end_matches("_id");
            let target = match stem {
                "parent" => "categories".to_string(),
                "author" => "users".to_string(),
                "ticket" => "support_tickets".to_string(),
                "category" => "categories".to_string(),
                _ => format!("{stem}s"),
            };
            t.parents[j] = names.iter().position(|n| *n == target);
        }
    }
    tables
}

// ---------------------------------------------------------------------------------------------
// Statement shapes: text with literal slots, rendered inline (simple protocol) or as `$n`
// parameters (extended protocol).

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lit {
    /// The row the statement is about (scenarios fix these).
    Id,
    /// A reference to another row.
    Ref,
    Qty,
    Small,
    Money,
    Word,
    Status,
    Code,
    Email,
    Ts,
    Bool,
    Interval,
}

enum Part {
    Text(Box<[u8]>),
    Lit(Lit),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    /// SELECT … FOR UPDATE/SHARE.
    LockRead,
    Write,
    Insert,
    Ctl,
}

/// How the row lock is taken, for CONTEXT lines.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RowOp {
    None,
    Updating,
    Locking,
    Deleting,
}

struct Shape {
    parts: Vec<Part>,
    table: usize,
    kind: Kind,
    op: RowOp,
    nowait: bool,
    /// `… WHERE id = <one Id literal>` and nothing else fixed: usable by scenarios.
    by_id: bool,
}

struct B {
    parts: Vec<Part>,
    cur: Vec<u8>,
}

impl B {
    fn new() -> B {
        B {
            parts: Vec::new(),
            cur: Vec::new(),
        }
    }
    fn t(&mut self, s: &str) -> &mut B {
        push_tabbed(&mut self.cur, s);
        self
    }
    fn l(&mut self, l: Lit) -> &mut B {
        if !self.cur.is_empty() {
            let text = std::mem::take(&mut self.cur);
            self.parts.push(Part::Text(text.into_boxed_slice()));
        }
        self.parts.push(Part::Lit(l));
        self
    }
    fn finish(mut self) -> Vec<Part> {
        if !self.cur.is_empty() {
            self.parts.push(Part::Text(self.cur.into_boxed_slice()));
        }
        self.parts
    }
}

fn col_lit(k: u8) -> Lit {
    match k {
        b'I' => Lit::Ref,
        b'Q' => Lit::Qty,
        b'N' => Lit::Money,
        b'S' => Lit::Word,
        b'W' => Lit::Status,
        b'C' => Lit::Code,
        b'E' => Lit::Email,
        b'T' => Lit::Ts,
        _ => Lit::Bool,
    }
}

fn shape_key(parts: &[Part]) -> Vec<u8> {
    let mut k = Vec::new();
    for p in parts {
        match p {
            Part::Text(t) => k.extend_from_slice(t),
            Part::Lit(l) => {
                k.push(0);
                k.push(*l as u8);
            }
        }
    }
    k
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Django,
    Hibernate,
    Multi,
}

const CONTROLLERS: &[&str] = &[
    "orders",
    "checkout",
    "carts",
    "accounts",
    "payments",
    "admin",
    "api",
    "webhooks",
    "search",
    "profile",
    "inventory",
    "reports",
];
const ACTIONS: &[&str] = &[
    "show", "index", "create", "update", "destroy", "confirm", "sync", "retry",
];

fn pick_cols(rng: &mut Rng, t: &Table) -> Vec<usize> {
    let n = t.cols.len();
    let k = rng.range(1, n.min(4) as u64) as usize;
    let mut v: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = i + rng.below((n - i) as u64) as usize;
        v.swap(i, j);
    }
    v.truncate(k);
    v.sort_unstable();
    v
}

fn col_list(t: &Table, cols: &[usize], style: Style, star: bool) -> String {
    let mut s = String::new();
    match style {
        Style::Django => {
            s.push_str(&format!("\"{0}\".\"id\"", t.name));
            for &c in cols {
                s.push_str(&format!(", \"{}\".\"{}\"", t.name, t.cols[c].0));
            }
        }
        Style::Hibernate => {
            s.push_str(&format!("{}1_0.id", t.alias));
            for &c in cols {
                s.push_str(&format!(",{}1_0.{}", t.alias, t.cols[c].0));
            }
        }
        _ if star => s.push('*'),
        _ => {
            s.push_str("id");
            for &c in cols {
                s.push_str(", ");
                s.push_str(&t.cols[c].0);
            }
        }
    }
    s
}

/// FROM clause + `WHERE <col> = ` in the style.
fn from_where(b: &mut B, t: &Table, style: Style, col: &str) {
    match style {
        Style::Plain => {
            b.t(&format!(" FROM {} WHERE {col} = ", t.name));
        }
        Style::Django => {
            b.t(&format!(" FROM \"{0}\" WHERE \"{0}\".\"{col}\" = ", t.name));
        }
        Style::Hibernate => {
            b.t(&format!(
                " from {} {a}1_0 where {a}1_0.{col}=",
                t.name,
                a = t.alias
            ));
        }
        Style::Multi => {
            b.t(&format!("\n  FROM {}\n WHERE {col} = ", t.name));
        }
    }
}

fn select_kw(style: Style) -> &'static str {
    if style == Style::Hibernate {
        "select "
    } else {
        "SELECT "
    }
}

/// One random shape of table `ti`, of kind number `which` (0..=18; 19: `FOR SHARE` by id).
fn make_shape(rng: &mut Rng, tables: &[Table], ti: usize, which: u64) -> Option<Shape> {
    let t = &tables[ti];
    let style = match rng.below(10) {
        0..=4 => Style::Plain,
        5 | 6 => Style::Django,
        7 => Style::Hibernate,
        _ => Style::Multi,
    };
    let mut b = B::new();
    let mut kind = Kind::Read;
    let mut op = RowOp::None;
    let mut nowait = false;
    let mut by_id = false;
    let star = rng.one_in(6);
    let cols = pick_cols(rng, t);
    let refs: Vec<usize> = (0..t.cols.len()).filter(|&c| t.cols[c].1 == b'I').collect();
    let nums: Vec<usize> = (0..t.cols.len())
        .filter(|&c| matches!(t.cols[c].1, b'Q' | b'N'))
        .collect();
    let settable: Vec<usize> = (0..t.cols.len())
        .filter(|&c| t.cols[c].0 != "updated_at" && t.cols[c].0 != "created_at")
        .collect();
    let times: Vec<usize> = (0..t.cols.len()).filter(|&c| t.cols[c].1 == b'T').collect();
    match which {
        // SELECT by id
        0 | 1 => {
            b.t(select_kw(style)).t(&col_list(t, &cols, style, star));
            from_where(&mut b, t, style, "id");
            b.l(Lit::Id);
            if style == Style::Django {
                b.t(" LIMIT 21");
            }
            by_id = true;
        }
        // SELECT by a reference column
        2 => {
            let &c = rng.pick(if refs.is_empty() { &cols } else { &refs });
            let cname = t.cols[c].0.clone();
            b.t(select_kw(style)).t(&col_list(t, &cols, style, star));
            from_where(&mut b, t, style, &cname);
            b.l(col_lit(t.cols[c].1));
            let order = times.first().map_or("id", |&c| t.cols[c].0.as_str());
            match style {
                Style::Multi => b
                    .t(&format!("\n ORDER BY {order} DESC\n LIMIT "))
                    .l(Lit::Small),
                Style::Hibernate => b.t(&format!(" order by {}1_0.{order} desc", t.alias)),
                Style::Django => b.t(&format!(" ORDER BY \"{}\".\"{order}\" DESC", t.name)),
                Style::Plain => b.t(&format!(" ORDER BY {order} DESC LIMIT ")).l(Lit::Small),
            };
        }
        // SELECT … FOR UPDATE / SHARE by id
        3 | 4 | 19 => {
            b.t(select_kw(style)).t(&col_list(t, &cols, style, star));
            from_where(&mut b, t, style, "id");
            b.l(Lit::Id);
            let r = if which == 19 { 7 } else { rng.below(10) };
            let (clause, nw) = match r {
                0..=4 => (" FOR UPDATE", false),
                5 | 6 => (" FOR NO KEY UPDATE", false),
                7 => (" FOR SHARE", false),
                8 => (" FOR UPDATE SKIP LOCKED", false),
                _ => (" FOR UPDATE NOWAIT", true),
            };
            if style == Style::Hibernate {
                b.t(&clause.to_lowercase());
            } else if style == Style::Multi {
                b.t("\n  ").t(clause.trim_start());
            } else {
                b.t(clause);
            }
            kind = Kind::LockRead;
            op = RowOp::Locking;
            nowait = nw;
            by_id = !nw && !clause.contains("SKIP");
        }
        // count
        5 => {
            let &c = rng.pick(&settable);
            b.t(&format!(
                "SELECT count(*) FROM {} WHERE {} = ",
                t.name, t.cols[c].0
            ))
            .l(col_lit(t.cols[c].1));
        }
        // JOIN with the parent table
        6 => {
            let j = *rng.pick(if refs.is_empty() { &cols } else { &refs });
            let p = t.parents[j].unwrap_or((ti + 1 + rng.below(49) as usize) % tables.len());
            let pt = &tables[p];
            let pa = if pt.alias == t.alias {
                format!("{}2", pt.alias)
            } else {
                pt.alias.clone()
            };
            let pc = rng.below(pt.cols.len() as u64) as usize;
            let sep = if style == Style::Multi { "\n  " } else { " " };
            b.t(&format!(
                "SELECT {a}.id, {a}.{c0}, {pa}.{pc}{sep}FROM {t} {a}{sep}JOIN {p} {pa} ON {pa}.id = {a}.{j}{sep}WHERE {a}.id = ",
                a = t.alias,
                c0 = t.cols[cols[0]].0,
                pc = pt.cols[pc].0,
                t = t.name,
                p = pt.name,
                j = t.cols[j].0,
            ))
            .l(Lit::Id);
        }
        // IN list
        7 => {
            let k = rng.range(2, 12);
            b.t(&format!(
                "SELECT {} FROM {} WHERE id IN (",
                col_list(t, &cols, Style::Plain, star),
                t.name
            ));
            for i in 0..k {
                if i > 0 {
                    b.t(", ");
                }
                b.l(Lit::Ref);
            }
            b.t(")");
        }
        // UPDATE by id
        8..=10 => {
            kind = Kind::Write;
            op = RowOp::Updating;
            by_id = true;
            let incr = !nums.is_empty() && rng.pct(60);
            let set: Vec<usize> = if incr {
                vec![*rng.pick(&nums)]
            } else {
                let mut v = pick_cols(rng, t);
                v.retain(|c| settable.contains(c));
                if v.is_empty() {
                    v.push(*rng.pick(&settable));
                }
                v
            };
            let (upd, set_kw, eq, sep, whr) = match style {
                Style::Plain => ("UPDATE ", " SET ", " = ", ", ", " WHERE id = "),
                Style::Django => ("UPDATE ", " SET ", " = ", ", ", ""),
                Style::Hibernate => ("update ", " set ", "=", ",", " where id="),
                Style::Multi => (
                    "UPDATE ",
                    "\n   SET ",
                    " = ",
                    ",\n       ",
                    "\n WHERE id = ",
                ),
            };
            let q = |c: &str| {
                if style == Style::Django {
                    format!("\"{c}\"")
                } else {
                    c.to_string()
                }
            };
            if style == Style::Django {
                b.t(&format!("{upd}\"{}\"{set_kw}", t.name));
            } else {
                b.t(&format!("{upd}{}{set_kw}", t.name));
            }
            for (i, &c) in set.iter().enumerate() {
                if i > 0 {
                    b.t(sep);
                }
                let cn = q(&t.cols[c].0);
                if incr {
                    let sign = if rng.pct(70) { "+" } else { "-" };
                    if style == Style::Hibernate {
                        b.t(&format!("{cn}={cn}{sign}"));
                    } else {
                        b.t(&format!("{cn} = {cn} {sign} "));
                    }
                } else {
                    b.t(&format!("{cn}{eq}"));
                }
                b.l(col_lit(t.cols[c].1));
            }
            if t.has_updated_at && rng.pct(70) {
                b.t(&format!("{sep}{}{eq}now()", q("updated_at")));
            }
            if style == Style::Django {
                b.t(&format!(" WHERE \"{}\".\"id\" = ", t.name));
            } else {
                b.t(whr);
            }
            b.l(Lit::Id);
        }
        // UPDATE by reference column
        11 => {
            kind = Kind::Write;
            op = RowOp::Updating;
            let &j = rng.pick(if refs.is_empty() { &settable } else { &refs });
            let &c = rng.pick(&settable);
            b.t(&format!("UPDATE {} SET {} = ", t.name, t.cols[c].0))
                .l(col_lit(t.cols[c].1))
                .t(&format!(" WHERE {} = ", t.cols[j].0))
                .l(col_lit(t.cols[j].1));
        }
        // INSERT (single or multi-row)
        12 | 13 => {
            kind = Kind::Insert;
            let rows = if which == 13 { rng.range(2, 5) } else { 1 };
            let with_id = style == Style::Hibernate;
            let names: Vec<String> = t
                .cols
                .iter()
                .map(|c| {
                    if style == Style::Django {
                        format!("\"{}\"", c.0)
                    } else {
                        c.0.clone()
                    }
                })
                .collect();
            let (ins, vals, comma) = match style {
                Style::Hibernate => ("insert into ", ") values ", ","),
                Style::Multi => ("INSERT INTO ", ")\nVALUES ", ", "),
                _ => ("INSERT INTO ", ") VALUES ", ", "),
            };
            let tn = if style == Style::Django {
                format!("\"{}\"", t.name)
            } else {
                t.name.clone()
            };
            b.t(&format!("{ins}{tn} ({}", names.join(comma)));
            if with_id {
                b.t(",id");
            }
            b.t(vals);
            let now_for_ts = rng.pct(60);
            for r in 0..rows {
                if r > 0 {
                    b.t(if style == Style::Multi {
                        ",\n       "
                    } else {
                        ", "
                    });
                }
                b.t("(");
                for (i, c) in t.cols.iter().enumerate() {
                    if i > 0 {
                        b.t(comma);
                    }
                    if c.1 == b'T' && now_for_ts {
                        b.t("now()");
                    } else {
                        b.l(col_lit(c.1));
                    }
                }
                if with_id {
                    b.t(comma).l(Lit::Id);
                }
                b.t(")");
            }
            match style {
                Style::Django => {
                    b.t(&format!(" RETURNING \"{}\".\"id\"", t.name));
                }
                Style::Plain if rng.pct(50) => {
                    b.t(" RETURNING id");
                }
                _ => {}
            }
        }
        // upsert
        14 => {
            kind = Kind::Insert;
            let &c = rng.pick(&settable);
            let names: Vec<&str> = t.cols.iter().map(|c| c.0.as_str()).collect();
            b.t(&format!(
                "INSERT INTO {} (id, {}) VALUES (",
                t.name,
                names.join(", ")
            ))
            .l(Lit::Id);
            for col in &t.cols {
                b.t(", ").l(col_lit(col.1));
            }
            if rng.pct(70) {
                b.t(&format!(
                    ") ON CONFLICT (id) DO UPDATE SET {0} = EXCLUDED.{0}",
                    t.cols[c].0
                ));
            } else {
                b.t(") ON CONFLICT DO NOTHING");
            }
        }
        // DELETE by id / old rows
        15 => {
            kind = Kind::Write;
            op = RowOp::Deleting;
            if !times.is_empty() && rng.pct(40) {
                b.t(&format!(
                    "DELETE FROM {} WHERE {} < now() - ",
                    t.name, t.cols[times[0]].0
                ))
                .l(Lit::Interval);
            } else {
                match style {
                    Style::Django => b
                        .t(&format!(
                            "DELETE FROM \"{0}\" WHERE \"{0}\".\"id\" IN (",
                            t.name
                        ))
                        .l(Lit::Id)
                        .t(")"),
                    Style::Hibernate => {
                        b.t(&format!("delete from {} where id=", t.name)).l(Lit::Id)
                    }
                    _ => b
                        .t(&format!("DELETE FROM {} WHERE id = ", t.name))
                        .l(Lit::Id),
                };
            }
        }
        // UPDATE … FROM parent
        16 => {
            if refs.is_empty() {
                return None;
            }
            kind = Kind::Write;
            let &j = rng.pick(&refs);
            let p = t.parents[j]?;
            let pt = &tables[p];
            let &c = rng.pick(&settable);
            b.t(&format!("UPDATE {} SET {} = ", t.name, t.cols[c].0))
                .l(col_lit(t.cols[c].1))
                .t(&format!(
                    " FROM {p} WHERE {p}.id = {t}.{j} AND {p}.id = ",
                    p = pt.name,
                    t = t.name,
                    j = t.cols[j].0
                ))
                .l(Lit::Ref);
        }
        // data-modifying CTE writing an audit row
        17 => {
            kind = Kind::Write;
            op = RowOp::Updating;
            let &c = rng.pick(&settable);
            b.t(&format!(
                "WITH changed AS (\n    UPDATE {} SET {} = ",
                t.name, t.cols[c].0
            ))
            .l(col_lit(t.cols[c].1))
            .t(" WHERE id = ")
            .l(Lit::Id)
            .t(&format!(
                " RETURNING id\n)\nINSERT INTO audit_log (user_id, action, entity, created_at)\nSELECT {}, 'update', '{}', now() FROM changed",
                rng.range(1, 5000),
                t.name
            ));
        }
        // nextval / LOCK TABLE
        _ => {
            if rng.pct(70) {
                b.t(&format!("SELECT nextval('{}_id_seq')", t.name));
            } else {
                kind = Kind::Write;
                let mode = *rng.pick(&["SHARE ROW EXCLUSIVE", "EXCLUSIVE", "SHARE"]);
                b.t(&format!("LOCK TABLE {} IN {mode} MODE", t.name));
            }
        }
    }
    // ORM / framework comments and psql-style semicolons make more distinct texts.
    if matches!(style, Style::Plain | Style::Multi) && rng.pct(25) {
        let c = *rng.pick(CONTROLLERS);
        let a = *rng.pick(ACTIONS);
        if rng.pct(50) {
            b.t(&format!(" /*controller:{c},action:{a}*/"));
        } else {
            b.t(&format!(
                " /*action='{a}',controller='{c}',framework='rails'*/"
            ));
        }
    } else if style == Style::Plain && rng.pct(10) {
        b.t(";");
    }
    Some(Shape {
        parts: b.finish(),
        table: ti,
        kind,
        op,
        nowait,
        by_id,
    })
}

fn ctl_shape(text: &str, lits: &[Lit]) -> Shape {
    let mut b = B::new();
    let mut pieces = text.split('?');
    if let Some(p) = pieces.next() {
        b.t(p);
    }
    for (p, l) in pieces.zip(lits) {
        b.l(*l);
        b.t(p);
    }
    Shape {
        parts: b.finish(),
        table: usize::MAX,
        kind: Kind::Ctl,
        op: RowOp::None,
        nowait: false,
        by_id: false,
    }
}

#[derive(Default)]
struct TableShapes {
    reads: Vec<u32>,
    writes: Vec<u32>,
    locks: Vec<u32>,
    /// By-id row writers / lockers usable by scenarios.
    upd_by_id: Vec<u32>,
    lock_by_id: Vec<u32>,
    share_by_id: Vec<u32>,
    sel_by_id: Vec<u32>,
}

struct Catalog {
    shapes: Vec<Shape>,
    by_table: Vec<TableShapes>,
    txns: Vec<Vec<u32>>,
    auto: Vec<u32>,
    select1: u32,
}

fn build_catalog(rng: &mut Rng, tables: &[Table], target: usize) -> Catalog {
    let mut shapes: Vec<Shape> = Vec::new();
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let mut by_table: Vec<TableShapes> =
        (0..tables.len()).map(|_| TableShapes::default()).collect();
    // Adds a shape unless its text is already there; files it under its table.
    let mut add =
        |s: Shape, shapes: &mut Vec<Shape>, by_table: &mut Vec<TableShapes>| -> Option<u32> {
            let key = shape_key(&s.parts);
            if !seen.insert(key.clone()) {
                return None;
            }
            let i = shapes.len() as u32;
            if s.table != usize::MAX {
                let ts = &mut by_table[s.table];
                match s.kind {
                    Kind::Read => ts.reads.push(i),
                    Kind::LockRead => ts.locks.push(i),
                    Kind::Write | Kind::Insert => ts.writes.push(i),
                    Kind::Ctl => {}
                }
                if s.by_id {
                    let share = key.windows(9).any(|w| w.eq_ignore_ascii_case(b"FOR SHARE"));
                    match (s.kind, s.op) {
                        (Kind::Write, RowOp::Updating) => ts.upd_by_id.push(i),
                        (Kind::LockRead, _) if share => ts.share_by_id.push(i),
                        (Kind::LockRead, _) => ts.lock_by_id.push(i),
                        (Kind::Read, _) => ts.sel_by_id.push(i),
                        _ => {}
                    }
                }
            }
            shapes.push(s);
            Some(i)
        };
    let select1 = add(ctl_shape("SELECT 1", &[]), &mut shapes, &mut by_table).unwrap_or(0);
    let ctl_texts: &[(&str, &[Lit])] = &[
        ("SET LOCAL statement_timeout = '5s'", &[]),
        ("SAVEPOINT sp1", &[]),
        ("RELEASE SAVEPOINT sp1", &[]),
        ("SELECT pg_advisory_xact_lock(?)", &[Lit::Ref]),
        ("SELECT now()", &[]),
        ("SHOW transaction_isolation", &[]),
    ];
    let mut ctl = Vec::new();
    for (text, lits) in ctl_texts {
        if let Some(i) = add(ctl_shape(text, lits), &mut shapes, &mut by_table) {
            ctl.push(i);
        }
    }
    // Scenarios need by-id shapes of four sorts for every table.
    for ti in 0..tables.len() {
        for which in [0u64, 8, 3, 19] {
            for _ in 0..1_000 {
                let ts = &by_table[ti];
                let have = match which {
                    0 => !ts.sel_by_id.is_empty(),
                    8 => !ts.upd_by_id.is_empty(),
                    3 => !ts.lock_by_id.is_empty(),
                    _ => !ts.share_by_id.is_empty(),
                };
                if have {
                    break;
                }
                if let Some(s) = make_shape(rng, tables, ti, which) {
                    add(s, &mut shapes, &mut by_table);
                }
            }
        }
    }
    // Every table gets each kind at least once, then random kinds until the target is met.
    let mut tries = 0usize;
    let mut round = 0u64;
    while shapes.len() < target && tries < target * 20 {
        for ti in 0..tables.len() {
            if shapes.len() >= target {
                break;
            }
            let which = if round < 19 { round } else { rng.below(19) };
            if let Some(s) = make_shape(rng, tables, ti, which) {
                add(s, &mut shapes, &mut by_table);
            }
            tries += 1;
        }
        round += 1;
    }
    // Code paths: transactions touching a neighbourhood of tables in one global order, some
    // with two statements swapped (the order inversions lockgraph looks for).
    let n_tables = tables.len();
    let mut txns = Vec::new();
    for _ in 0..(target / 3).max(50) {
        let n = *rng.pick(&[1usize, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6, 7, 8]);
        let base = rng.skewed(n_tables);
        let mut picks: Vec<usize> = (0..n)
            .map(|_| (base + rng.below(8) as usize) % n_tables)
            .collect();
        picks.sort_unstable();
        let mut stmts: Vec<u32> = picks
            .iter()
            .enumerate()
            .map(|(i, &ti)| {
                let ts = &by_table[ti];
                let r = rng.below(100);
                let list = if (r < 20 || (i == 0 && r < 35)) && !ts.locks.is_empty() {
                    &ts.locks
                } else if r < 65 && !ts.writes.is_empty() {
                    &ts.writes
                } else if !ts.reads.is_empty() {
                    &ts.reads
                } else {
                    &ts.writes
                };
                list[rng.skewed(list.len())]
            })
            .collect();
        if stmts.len() >= 2 && rng.pct(3) {
            let i = rng.below(stmts.len() as u64 - 1) as usize;
            stmts.swap(i, i + 1);
        }
        if rng.pct(5) {
            stmts.insert(0, ctl[0]);
        }
        if rng.pct(2) {
            stmts.insert(0, ctl[3]);
        }
        if stmts.len() >= 2 && rng.pct(4) {
            let at = stmts.len() - 1;
            stmts.insert(at, ctl[1]);
            stmts.push(ctl[2]);
        }
        txns.push(stmts);
    }
    // Autocommit statements: mostly reads, some writes, health checks.
    let mut auto = Vec::new();
    for ts in &by_table {
        auto.extend_from_slice(&ts.reads);
        auto.extend(ts.writes.iter().step_by(3));
    }
    // Shuffle so that popularity (skewed picks) is spread across tables.
    for i in (1..auto.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        auto.swap(i, j);
    }
    auto.insert(0, select1);
    auto.extend(ctl.iter().copied().skip(4));
    Catalog {
        shapes,
        by_table,
        txns,
        auto,
        select1,
    }
}

// ---------------------------------------------------------------------------------------------
// Literal values.

const WORDS: &[&str] = &[
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
    "yankee",
    "zulu",
    "o'brien",
    "d'angelo",
    "north",
    "south",
    "east",
    "west",
    "red",
    "green",
    "blue",
    "express",
    "standard",
    "priority",
    "gift",
    "damaged",
    "late delivery",
    "wrong size",
    "Berlin",
    "Lisbon",
    "Osaka",
    "Toronto",
    "Nairobi",
    "Lima",
    "support",
    "billing",
    "signup",
    "password reset",
    "weekly digest",
    "invoice ready",
];
const STATUSES: &[&str] = &[
    "pending",
    "paid",
    "shipped",
    "delivered",
    "cancelled",
    "refunded",
    "active",
    "failed",
    "queued",
    "running",
    "done",
    "open",
    "closed",
];
const NAMES: &[&str] = &[
    "anna", "ben", "carla", "dmitri", "eve", "farid", "grace", "hiro", "ines", "jon", "kemal",
    "lena", "marco", "nadia", "omar", "priya",
];

/// Writes one literal: inline SQL text (`ext = false`) or a parameter value (`ext = true`,
/// always quoted, as the server logs them).
fn push_value(rng: &mut Rng, l: Lit, fixed: Option<u64>, ext: bool, out: &mut Vec<u8>) {
    let quoted = |out: &mut Vec<u8>, s: &str| {
        out.push(b'\'');
        for &c in s.as_bytes() {
            if c == b'\'' {
                out.push(b'\'');
            }
            out.push(c);
        }
        out.push(b'\'');
    };
    let number = |out: &mut Vec<u8>, f: &dyn Fn(&mut Vec<u8>)| {
        if ext {
            out.push(b'\'');
            f(out);
            out.push(b'\'');
        } else {
            f(out);
        }
    };
    match l {
        Lit::Id | Lit::Ref => {
            let v = fixed.unwrap_or_else(|| 1 + rng.below(2_000_000));
            number(out, &|o| push_u64(o, v));
        }
        Lit::Qty => {
            let v = rng.range(1, 20);
            number(out, &|o| push_u64(o, v));
        }
        Lit::Small => {
            let v = *rng.pick(&[1u64, 10, 20, 25, 50, 100]);
            number(out, &|o| push_u64(o, v));
        }
        Lit::Money => {
            let v = rng.below(100_000);
            number(out, &|o| {
                push_u64(o, v / 100);
                o.push(b'.');
                push_2(o, v % 100);
            });
        }
        Lit::Word => {
            if rng.one_in(40) {
                out.extend_from_slice(b"NULL");
            } else {
                let w = *rng.pick(WORDS);
                quoted(out, w);
            }
        }
        Lit::Status => {
            let w = *rng.pick(STATUSES);
            quoted(out, w);
        }
        Lit::Code => {
            let v = rng.next();
            out.push(b'\'');
            for i in 0..3 {
                out.push(b'A' + ((v >> (i * 5)) % 26) as u8);
            }
            out.push(b'-');
            push_u64(out, 10_000 + (v >> 20) % 90_000);
            out.push(b'\'');
        }
        Lit::Email => {
            let name = *rng.pick(NAMES);
            let n = rng.below(100_000);
            out.push(b'\'');
            out.extend_from_slice(name.as_bytes());
            push_u64(out, n);
            out.extend_from_slice(b"@example.com'");
        }
        Lit::Ts => {
            let v = rng.next();
            out.extend_from_slice(b"'2026-");
            push_2(out, 1 + v % 11);
            out.push(b'-');
            push_2(out, 1 + (v >> 8) % 28);
            out.push(b' ');
            push_2(out, (v >> 16) % 24);
            out.push(b':');
            push_2(out, (v >> 24) % 60);
            out.push(b':');
            push_2(out, (v >> 32) % 60);
            out.extend_from_slice(b"+00'");
        }
        Lit::Bool => {
            let t = rng.pct(50);
            out.extend_from_slice(match (ext, t) {
                (true, true) => b"'t'",
                (true, false) => b"'f'",
                (false, true) => b"true",
                (false, false) => b"false",
            });
        }
        Lit::Interval => {
            let v = rng.range(1, 90);
            if !ext {
                out.extend_from_slice(b"interval ");
            }
            out.push(b'\'');
            push_u64(out, v);
            out.extend_from_slice(b" days'");
        }
    }
}

/// Renders a shape into `q` (the query text) and, in extended protocol, `params`
/// (`$1 = '42', $2 = 'x'`). `fixed` supplies the `Id` literals in order.
fn render(
    rng: &mut Rng,
    shape: &Shape,
    ext: bool,
    fixed: &[u64],
    q: &mut Vec<u8>,
    params: &mut Vec<u8>,
) {
    q.clear();
    params.clear();
    let mut n = 0u64;
    let mut fixed = fixed.iter();
    for p in &shape.parts {
        match p {
            Part::Text(t) => q.extend_from_slice(t),
            Part::Lit(l) => {
                let f = if *l == Lit::Id {
                    fixed.next().copied()
                } else {
                    None
                };
                if ext {
                    n += 1;
                    q.push(b'$');
                    push_u64(q, n);
                    if *l == Lit::Interval {
                        q.extend_from_slice(b"::interval");
                    }
                    if n > 1 {
                        params.extend_from_slice(b", ");
                    }
                    params.push(b'$');
                    push_u64(params, n);
                    params.extend_from_slice(b" = ");
                    push_value(rng, *l, f, true, params);
                } else {
                    push_value(rng, *l, f, false, q);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sessions and scripted scenarios.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Proto {
    Simple,
    Extended,
    /// Role with `log_statement = none`: only slow statements, as `duration: … statement:`.
    Report,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    InTxn {
        tpl: u32,
        pos: u8,
    },
    /// An error aborted the transaction; `extra`: the client sends one more statement first.
    Aborted {
        extra: bool,
    },
}

struct Session {
    pid: u32,
    prefix: Vec<u8>,
    proto: Proto,
    report_ext: bool,
    state: State,
    busy: bool,
    /// Extended protocol: per shape, the server-side statement number (0: still unnamed) and
    /// the use count (pgjdbc prepares a statement on its 5th execution).
    names: Vec<u32>,
    uses: Vec<u8>,
    next_name: u32,
}

enum Ev {
    Lines(Vec<Vec<u8>>),
    /// First line is `head` + elapsed ms since step `since` + `tail`, then `more`.
    Timed {
        head: Vec<u8>,
        since: usize,
        tail: Vec<u8>,
        more: Vec<Vec<u8>>,
    },
}

struct Step {
    delay: u64,
    who: Vec<u8>,
    ev: Ev,
}

struct Scenario {
    steps: Vec<Step>,
    times: Vec<u64>,
    next: usize,
    sessions: Vec<usize>,
    txns: u64,
    deadlocks: u64,
    waits: u64,
}

#[derive(Default)]
struct Stats {
    transactions: u64,
    autocommit: u64,
    statements: u64,
    deadlocks: u64,
    lock_waits: u64,
    errors: u64,
    slow: u64,
    pids: u64,
}

const SECOND: u64 = 1_000_000;
const MS: u64 = 1_000;

struct Gen {
    rng: Rng,
    out: Out,
    tables: Vec<Table>,
    cat: Catalog,
    sessions: Vec<Session>,
    pid_used: Vec<bool>,
    next_pid: u32,
    checkpointer: Vec<u8>,
    slots: Vec<Option<Scenario>>,
    free_slots: Vec<usize>,
    heap: BinaryHeap<Reverse<(u64, usize)>>,
    q: Vec<u8>,
    p: Vec<u8>,
    xid: u64,
    deadlock_every: u64,
    wait_every: u64,
    reconnect_every: u64,
    next_deadlock: u64,
    next_wait: u64,
    next_checkpoint: u64,
    next_autovacuum: u64,
    draining: bool,
    stats: Stats,
}

impl Gen {
    fn new(args: &Args, sink: Sink) -> Gen {
        let mut rng = Rng::new(args.seed);
        let tables = load_tables();
        let cat = build_catalog(&mut rng, &tables, args.shapes);
        let base = days_from_civil(2026, 11, 24) * 86_400 + 10 * 3600;
        let mut g = Gen {
            out: Out::new(sink, base),
            tables,
            sessions: Vec::new(),
            pid_used: vec![false; 32_768],
            next_pid: 5_400 + rng.below(200) as u32,
            checkpointer: Vec::new(),
            slots: Vec::new(),
            free_slots: Vec::new(),
            heap: BinaryHeap::new(),
            q: Vec::with_capacity(4096),
            p: Vec::with_capacity(4096),
            xid: 700_000 + rng.below(100_000),
            deadlock_every: args.deadlock_every,
            wait_every: args.wait_every,
            reconnect_every: args.reconnect_every,
            next_deadlock: 0,
            next_wait: 0,
            next_checkpoint: rng.range(30, 240) * SECOND,
            next_autovacuum: rng.range(5, 60) * SECOND,
            draining: false,
            stats: Stats::default(),
            rng,
            cat,
        };
        g.next_deadlock = g.rng.range(g.deadlock_every / 10, g.deadlock_every);
        g.next_wait = g.rng.range(1, g.wait_every);
        let cp = g.alloc_pid();
        g.checkpointer = format!("[{cp}] ").into_bytes();
        for i in 0..args.sessions {
            let proto = match i % 20 {
                0 => Proto::Report,
                1..=8 => Proto::Extended,
                _ => Proto::Simple,
            };
            let s = Session {
                pid: 0,
                prefix: Vec::new(),
                proto,
                report_ext: i % 40 == 0,
                state: State::Idle,
                busy: false,
                names: vec![0; g.cat.shapes.len()],
                uses: vec![0; g.cat.shapes.len()],
                next_name: 4,
            };
            g.sessions.push(s);
            g.connect(i);
        }
        g
    }

    fn alloc_pid(&mut self) -> u32 {
        loop {
            self.next_pid += 1 + self.rng.below(16) as u32;
            if self.next_pid >= 32_768 {
                self.next_pid = 1_000 + self.rng.below(300) as u32;
            }
            let p = self.next_pid as usize;
            if !self.pid_used[p] {
                self.pid_used[p] = true;
                self.stats.pids += 1;
                return self.next_pid;
            }
        }
    }

    /// A new backend for session slot `s` (the old pid, if any, is freed).
    fn connect(&mut self, s: usize) {
        let old = self.sessions[s].pid;
        if old != 0 {
            self.pid_used[old as usize] = false;
        }
        let pid = self.alloc_pid();
        let proto = self.sessions[s].proto;
        let user = match proto {
            Proto::Simple => *self
                .rng
                .pick(&["app", "app", "app", "worker", "billing", "cron"]),
            Proto::Extended => *self.rng.pick(&["api", "api", "java_svc"]),
            Proto::Report => *self.rng.pick(&["report", "metabase"]),
        };
        let se = &mut self.sessions[s];
        se.pid = pid;
        se.prefix = format!("[{pid}] {user}@shop ").into_bytes();
        se.state = State::Idle;
        se.names.fill(0);
        se.uses.fill(0);
        se.next_name = 4;
    }

    fn ext(&self, s: usize) -> bool {
        let se = &self.sessions[s];
        se.proto == Proto::Extended || (se.proto == Proto::Report && se.report_ext)
    }

    /// `S_n` number for an extended-protocol execution of `shape` (0: `<unnamed>`).
    fn stmt_name(&mut self, s: usize, shape: u32) -> u32 {
        let se = &mut self.sessions[s];
        let i = shape as usize;
        if se.names[i] != 0 {
            return se.names[i];
        }
        se.uses[i] = se.uses[i].saturating_add(1);
        if se.uses[i] >= 5 {
            se.names[i] = se.next_name;
            se.next_name += 1;
        }
        0
    }

    fn push_exec_name(buf: &mut Vec<u8>, name: u32) {
        if name == 0 {
            buf.extend_from_slice(b"<unnamed>");
        } else {
            buf.extend_from_slice(b"S_");
            push_u64(buf, name as u64);
        }
    }

    // ---- the normal stream --------------------------------------------------------------

    fn tick(&mut self) {
        let gap = self.rng.below(500);
        let next = self.out.clock + gap;
        if let Some(&Reverse((due, slot))) = self.heap.peek()
            && due <= next
        {
            self.heap.pop();
            self.out.clock = self.out.clock.max(due);
            self.run_step(slot);
            return;
        }
        self.out.clock = next;
        if self.out.clock >= self.next_checkpoint {
            self.next_checkpoint += 300 * SECOND;
            self.schedule_checkpoint();
        }
        if self.out.clock >= self.next_autovacuum {
            self.next_autovacuum += self.rng.range(20, 90) * SECOND;
            self.autovacuum();
        }
        let s = self.rng.below(self.sessions.len() as u64) as usize;
        if !self.sessions[s].busy {
            self.step_session(s);
        }
    }

    fn step_session(&mut self, s: usize) {
        match self.sessions[s].state {
            State::Idle => {
                if self.draining {
                    return;
                }
                match self.sessions[s].proto {
                    Proto::Report => {
                        if self.rng.one_in(12) {
                            self.report_statement(s);
                        }
                        return;
                    }
                    Proto::Simple if self.rng.one_in(1500) => {
                        self.ctl(s, b"DISCARD ALL");
                        return;
                    }
                    Proto::Simple if self.rng.one_in(40_000) => {
                        self.ctl(s, b"COMMIT");
                        let who = self.sessions[s].prefix.clone();
                        self.out
                            .line(&who, b"WARNING:  there is no transaction in progress");
                        return;
                    }
                    _ => {}
                }
                if self.reconnect_every > 0 && self.rng.one_in(self.reconnect_every) {
                    self.connect(s);
                    return;
                }
                if self.rng.one_in(60_000) {
                    self.syntax_error(s);
                    return;
                }
                if self.rng.pct(55) {
                    let tpl = self.rng.skewed(self.cat.txns.len()) as u32;
                    let begin: &[u8] = if self.ext(s) {
                        b"BEGIN"
                    } else {
                        match self.rng.below(40) {
                            0 => b"BEGIN ISOLATION LEVEL REPEATABLE READ",
                            1 => b"START TRANSACTION",
                            2 => b"begin",
                            _ => b"BEGIN",
                        }
                    };
                    self.ctl(s, begin);
                    self.sessions[s].state = State::InTxn { tpl, pos: 0 };
                } else {
                    let i = self.rng.skewed(self.cat.auto.len());
                    let shape = self.cat.auto[i];
                    self.stats.autocommit += 1;
                    self.statement(s, shape);
                }
            }
            State::InTxn { tpl, pos } => {
                if self.rng.one_in(300_000) {
                    let who = self.sessions[s].prefix.clone();
                    self.out.line(
                        &who,
                        b"LOG:  unexpected EOF on client connection with an open transaction",
                    );
                    self.stats.transactions += 1;
                    self.connect(s);
                    return;
                }
                let stmts = &self.cat.txns[tpl as usize];
                if (pos as usize) < stmts.len() {
                    let shape = stmts[pos as usize];
                    self.sessions[s].state = State::InTxn { tpl, pos: pos + 1 };
                    self.statement(s, shape);
                } else {
                    let end: &[u8] = match self.rng.below(100) {
                        0..=2 => b"ROLLBACK",
                        3 if !self.ext(s) => b"END",
                        _ => b"COMMIT",
                    };
                    self.ctl(s, end);
                    self.end_txn(s);
                }
            }
            State::Aborted { extra } => {
                if extra {
                    let shape = self.cat.auto[self.rng.skewed(self.cat.auto.len())];
                    let ext = self.ext(s);
                    if ext {
                        render(
                            &mut self.rng,
                            &self.cat.shapes[shape as usize],
                            true,
                            &[],
                            &mut self.q,
                            &mut self.p,
                        );
                    } else {
                        self.statement_line(s, shape);
                    }
                    self.error(
                        s,
                        b"current transaction is aborted, commands ignored until end of transaction block",
                        None,
                        None,
                    );
                    self.sessions[s].state = State::Aborted { extra: false };
                } else {
                    self.ctl(s, b"ROLLBACK");
                    self.end_txn(s);
                }
            }
        }
    }

    fn end_txn(&mut self, s: usize) {
        self.sessions[s].state = State::Idle;
        self.stats.transactions += 1;
        if self.draining {
            return;
        }
        if self.stats.transactions >= self.next_deadlock && self.start_deadlock() {
            self.next_deadlock += self.deadlock_every / 2 + self.rng.below(self.deadlock_every);
        }
        if self.stats.transactions >= self.next_wait && self.start_lock_wait() {
            self.next_wait += self.wait_every / 2 + self.rng.below(self.wait_every);
        }
    }

    /// `statement:` / `execute …:` (+ parameters) entry for a control statement.
    fn ctl(&mut self, s: usize, sql: &[u8]) {
        let ext = self.ext(s);
        let se = &self.sessions[s];
        self.out.begin(&se.prefix);
        if ext {
            let name: &[u8] = match sql {
                b"BEGIN" => b"S_1",
                b"COMMIT" => b"S_2",
                b"ROLLBACK" => b"S_3",
                _ => b"<unnamed>",
            };
            self.out.s(b"LOG:  execute ");
            self.out.s(name);
            self.out.s(b": ");
        } else {
            self.out.s(b"LOG:  statement: ");
        }
        self.out.s(sql);
        self.out.end();
    }

    /// Renders `shape` for session `s` into `self.q`/`self.p` and writes its logging entry.
    fn statement_line(&mut self, s: usize, shape: u32) {
        let ext = self.ext(s);
        render(
            &mut self.rng,
            &self.cat.shapes[shape as usize],
            ext,
            &[],
            &mut self.q,
            &mut self.p,
        );
        let name = if ext { self.stmt_name(s, shape) } else { 0 };
        let se = &self.sessions[s];
        self.out.begin(&se.prefix);
        if ext {
            self.out.s(b"LOG:  execute ");
            Self::push_exec_name(&mut self.out.buf, name);
            self.out.s(b": ");
        } else {
            self.out.s(b"LOG:  statement: ");
        }
        self.out.s(&self.q);
        self.out.end();
        if ext && !self.p.is_empty() {
            self.out.begin(&se.prefix);
            self.out.s(b"DETAIL:  parameters: ");
            self.out.s(&self.p);
            self.out.end();
        }
        self.stats.statements += 1;
    }

    /// A statement in the normal stream, with the occasional error or slow execution.
    fn statement(&mut self, s: usize, shape: u32) {
        self.statement_line(s, shape);
        if self.rng.one_in(4_000) {
            self.statement_error(s, shape);
        } else if self.rng.one_in(150) {
            self.slow(s);
        }
    }

    fn statement_error(&mut self, s: usize, shape: u32) {
        let sh = &self.cat.shapes[shape as usize];
        let t = sh.table;
        let mut msg = Vec::new();
        let mut detail = Vec::new();
        match sh.kind {
            Kind::Insert if t != usize::MAX => {
                let tb = &self.tables[t];
                let fk = tb
                    .cols
                    .iter()
                    .zip(&tb.parents)
                    .position(|(_, p)| p.is_some());
                if let (Some(j), true) = (fk, self.rng.pct(40)) {
                    let c = &tb.cols[j].0;
                    let p = tb.parents[j].map_or("", |p| self.tables[p].name.as_str());
                    msg = format!(
                        "insert or update on table \"{}\" violates foreign key constraint \"{}_{c}_fkey\"",
                        tb.name, tb.name
                    )
                    .into_bytes();
                    detail = format!(
                        "Key ({c})=({}) is not present in table \"{p}\".",
                        1 + self.rng.below(2_000_000)
                    )
                    .into_bytes();
                } else {
                    msg = format!(
                        "duplicate key value violates unique constraint \"{}_pkey\"",
                        tb.name
                    )
                    .into_bytes();
                    detail = format!(
                        "Key (id)=({}) already exists.",
                        1 + self.rng.below(2_000_000)
                    )
                    .into_bytes();
                }
            }
            Kind::LockRead if sh.nowait && t != usize::MAX => {
                msg = format!(
                    "could not obtain lock on row in relation \"{}\"",
                    self.tables[t].name
                )
                .into_bytes();
            }
            _ => msg.extend_from_slice(b"canceling statement due to statement timeout"),
        }
        let detail = (!detail.is_empty()).then_some(detail);
        self.error(s, &msg, detail.as_deref(), None);
        if let State::InTxn { .. } = self.sessions[s].state {
            let extra = self.rng.pct(30);
            self.sessions[s].state = State::Aborted { extra };
        }
    }

    /// ERROR entry with optional DETAIL and CONTEXT, and STATEMENT `self.q`.
    fn error(&mut self, s: usize, msg: &[u8], detail: Option<&[u8]>, context: Option<&[u8]>) {
        let se = &self.sessions[s];
        let line = |o: &mut Out, head: &[u8], body: &[u8]| {
            o.begin(&se.prefix);
            o.s(head);
            o.s(body);
            o.end();
        };
        line(&mut self.out, b"ERROR:  ", msg);
        if let Some(d) = detail {
            line(&mut self.out, b"DETAIL:  ", d);
        }
        if let Some(c) = context {
            line(&mut self.out, b"CONTEXT:  ", c);
        }
        line(&mut self.out, b"STATEMENT:  ", &self.q);
        self.stats.errors += 1;
    }

    /// A statement that fails to parse: the server logs it only as the error's STATEMENT.
    fn syntax_error(&mut self, s: usize) {
        let t = &self.tables[self.rng.below(self.tables.len() as u64) as usize].name;
        let (q, near, at) = match self.rng.below(3) {
            0 => (format!("SELECT * FORM {t} WHERE id = 7"), "FORM", 10),
            1 => (
                format!("UPDATE {t} SET WHERE id = 7"),
                "WHERE",
                16 + t.len(),
            ),
            _ => (format!("SELEC id FROM {t}"), "SELEC", 1),
        };
        self.q.clear();
        self.q.extend_from_slice(q.as_bytes());
        let msg = format!("syntax error at or near \"{near}\" at character {at}");
        self.error(s, msg.as_bytes(), None, None);
    }

    fn report_statement(&mut self, s: usize) {
        let ts = &self.cat.by_table[self.rng.below(self.tables.len() as u64) as usize];
        let shape = if ts.reads.is_empty() {
            self.cat.select1
        } else {
            ts.reads[self.rng.below(ts.reads.len() as u64) as usize]
        };
        let ext = self.ext(s);
        render(
            &mut self.rng,
            &self.cat.shapes[shape as usize],
            ext,
            &[],
            &mut self.q,
            &mut self.p,
        );
        let dur = 250 * MS + self.rng.below(3) * self.rng.below(4 * SECOND);
        let se = &self.sessions[s];
        self.out.begin(&se.prefix);
        self.out.s(b"LOG:  duration: ");
        push_ms(&mut self.out.buf, dur);
        if ext {
            self.out.s(b" ms  execute <unnamed>: ");
        } else {
            self.out.s(b" ms  statement: ");
        }
        self.out.s(&self.q);
        self.out.end();
        if ext && !self.p.is_empty() {
            self.out.begin(&se.prefix);
            self.out.s(b"DETAIL:  parameters: ");
            self.out.s(&self.p);
            self.out.end();
        }
        self.stats.slow += 1;
        self.stats.autocommit += 1;
        self.stats.statements += 1;
    }

    /// The statement just logged takes ≥ 250 ms: the session is silent until its
    /// `duration:` line.
    fn slow(&mut self, s: usize) {
        let dur =
            250 * MS + self.rng.below(2) * self.rng.below(3 * SECOND) + self.rng.below(200 * MS);
        let who = self.sessions[s].prefix.clone();
        let steps = vec![Step {
            delay: dur,
            who,
            ev: Ev::Timed {
                head: b"LOG:  duration: ".to_vec(),
                since: usize::MAX,
                tail: b" ms".to_vec(),
                more: Vec::new(),
            },
        }];
        self.stats.slow += 1;
        self.schedule(steps, vec![s], 0, 0, 0);
    }

    // ---- scenarios ----------------------------------------------------------------------

    fn schedule(
        &mut self,
        steps: Vec<Step>,
        sessions: Vec<usize>,
        txns: u64,
        deadlocks: u64,
        waits: u64,
    ) {
        for &s in &sessions {
            self.sessions[s].busy = true;
        }
        let due = self.out.clock + steps[0].delay;
        let sc = Scenario {
            times: vec![self.out.clock; steps.len()],
            steps,
            next: 0,
            sessions,
            txns,
            deadlocks,
            waits,
        };
        let slot = if let Some(i) = self.free_slots.pop() {
            self.slots[i] = Some(sc);
            i
        } else {
            self.slots.push(Some(sc));
            self.slots.len() - 1
        };
        self.heap.push(Reverse((due, slot)));
    }

    fn run_step(&mut self, slot: usize) {
        let Some(sc) = self.slots[slot].as_mut() else {
            return;
        };
        let i = sc.next;
        sc.times[i] = self.out.clock;
        let step = &sc.steps[i];
        match &step.ev {
            Ev::Lines(lines) => {
                for l in lines {
                    self.out.line(&step.who, l);
                }
            }
            Ev::Timed {
                head,
                since,
                tail,
                more,
            } => {
                // since == usize::MAX: measured from the scenario's start.
                let from = if *since == usize::MAX {
                    sc.times[0] - step.delay
                } else {
                    sc.times[*since]
                };
                self.out.begin(&step.who);
                self.out.s(head);
                push_ms(
                    &mut self.out.buf,
                    self.out.clock - from + self.rng.below(100),
                );
                self.out.s(tail);
                self.out.end();
                for l in more {
                    self.out.line(&step.who, l);
                }
            }
        }
        sc.next += 1;
        if sc.next < sc.steps.len() {
            let due = self.out.clock + sc.steps[sc.next].delay;
            self.heap.push(Reverse((due, slot)));
            return;
        }
        let Some(sc) = self.slots[slot].take() else {
            return;
        };
        self.free_slots.push(slot);
        for &s in &sc.sessions {
            self.sessions[s].busy = false;
        }
        self.stats.transactions += sc.txns;
        self.stats.deadlocks += sc.deadlocks;
        self.stats.lock_waits += sc.waits;
    }

    fn pick_idle(&mut self, simple_only: bool, taken: &[usize]) -> Option<usize> {
        for _ in 0..2_000 {
            let s = self.rng.below(self.sessions.len() as u64) as usize;
            let se = &self.sessions[s];
            if se.busy || se.state != State::Idle || se.proto == Proto::Report || taken.contains(&s)
            {
                continue;
            }
            if simple_only && se.proto != Proto::Simple {
                continue;
            }
            return Some(s);
        }
        None
    }

    fn next_xid(&mut self) -> u64 {
        self.xid += 1 + self.stats.transactions % 7 + self.rng.below(40);
        self.xid
    }

    /// Lines of a statement entry for a scenario, and the query text (as `Process N:` and
    /// `STATEMENT:` show it).
    fn entry(&mut self, s: usize, shape: u32, fixed: &[u64]) -> (Vec<Vec<u8>>, Vec<u8>) {
        let ext = self.ext(s);
        let mut q = Vec::new();
        let mut p = Vec::new();
        render(
            &mut self.rng,
            &self.cat.shapes[shape as usize],
            ext,
            fixed,
            &mut q,
            &mut p,
        );
        self.stats.statements += 1;
        let mut first = Vec::with_capacity(q.len() + 32);
        if ext {
            let name = self.stmt_name(s, shape);
            first.extend_from_slice(b"LOG:  execute ");
            Self::push_exec_name(&mut first, name);
            first.extend_from_slice(b": ");
        } else {
            first.extend_from_slice(b"LOG:  statement: ");
        }
        first.extend_from_slice(&q);
        let mut lines = vec![first];
        if ext && !p.is_empty() {
            let mut d = b"DETAIL:  parameters: ".to_vec();
            d.extend_from_slice(&p);
            lines.push(d);
        }
        (lines, q)
    }

    fn ctl_entry(&self, s: usize, sql: &str) -> Ev {
        let mut l = Vec::new();
        if self.ext(s) {
            let name = match sql {
                "BEGIN" => "S_1",
                "COMMIT" => "S_2",
                "ROLLBACK" => "S_3",
                _ => "<unnamed>",
            };
            l.extend_from_slice(format!("LOG:  execute {name}: {sql}").as_bytes());
        } else {
            l.extend_from_slice(format!("LOG:  statement: {sql}").as_bytes());
        }
        Ev::Lines(vec![l])
    }

    fn tuple_of(id: u64) -> (u64, u64) {
        (id / 60 % 4000, id % 60 + 1)
    }

    fn row_context(&self, op: RowOp, table: usize, id: u64) -> Option<Vec<u8>> {
        let verb = match op {
            RowOp::Updating => "updating",
            RowOp::Locking => "locking",
            RowOp::Deleting => "deleting",
            RowOp::None => return None,
        };
        let (b, o) = Self::tuple_of(id);
        Some(
            format!(
                "CONTEXT:  while {verb} tuple ({b},{o}) in relation \"{}\"",
                self.tables[table].name
            )
            .into_bytes(),
        )
    }

    /// A lock-wait LOG entry: `process P <what> <mode> on <target> after X ms` + DETAIL
    /// (not for `acquired`) + CONTEXT + STATEMENT.
    #[allow(clippy::too_many_arguments)]
    fn wait_ev(
        pid: u32,
        what: &str,
        mode: &str,
        target: &str,
        holders: &[u32],
        queue: &[u32],
        context: Option<&[u8]>,
        stmt: &[u8],
        since: usize,
    ) -> Ev {
        let head = format!("LOG:  process {pid} {what} {mode} on {target} after ").into_bytes();
        let mut more = Vec::new();
        if what != "acquired" {
            let join = |v: &[u32]| {
                v.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let d = if holders.len() == 1 {
                format!(
                    "DETAIL:  Process holding the lock: {}. Wait queue: {}.",
                    holders[0],
                    join(queue)
                )
            } else {
                format!(
                    "DETAIL:  Processes holding the lock: {}. Wait queue: {}.",
                    join(holders),
                    join(queue)
                )
            };
            more.push(d.into_bytes());
        }
        if let Some(c) = context {
            more.push(c.to_vec());
        }
        let mut st = b"STATEMENT:  ".to_vec();
        st.extend_from_slice(stmt);
        more.push(st);
        Ev::Timed {
            head,
            since,
            tail: b" ms".to_vec(),
            more,
        }
    }

    fn duration_ev(since: usize) -> Ev {
        Ev::Timed {
            head: b"LOG:  duration: ".to_vec(),
            since,
            tail: b" ms".to_vec(),
            more: Vec::new(),
        }
    }

    /// `ERROR:  deadlock detected` with the cycle starting at the detecting process.
    fn deadlock_ev(
        edges: &[(u32, String, u32)],
        procs: &[(u32, Vec<u8>)],
        context: Option<&[u8]>,
        stmt: &[u8],
    ) -> Ev {
        let mut d = b"DETAIL:  ".to_vec();
        for (i, (pid, what, blocker)) in edges.iter().enumerate() {
            if i > 0 {
                d.extend_from_slice(b"\n\t");
            }
            d.extend_from_slice(
                format!("Process {pid} waits for {what}; blocked by process {blocker}.").as_bytes(),
            );
        }
        for (pid, q) in procs {
            d.extend_from_slice(format!("\n\tProcess {pid}: ").as_bytes());
            d.extend_from_slice(q);
        }
        let mut lines = vec![
            b"ERROR:  deadlock detected".to_vec(),
            d,
            b"HINT:  See server log for query details.".to_vec(),
        ];
        if let Some(c) = context {
            lines.push(c.to_vec());
        }
        let mut st = b"STATEMENT:  ".to_vec();
        st.extend_from_slice(stmt);
        lines.push(st);
        Ev::Lines(lines)
    }

    fn distinct_ids(&mut self, n: usize) -> Vec<u64> {
        let mut v: Vec<u64> = Vec::new();
        while v.len() < n {
            let id = 1 + self.rng.below(200_000);
            if !v.contains(&id) {
                v.push(id);
            }
        }
        v
    }

    fn hot_table(&mut self) -> usize {
        self.rng.skewed(self.tables.len())
    }

    fn start_deadlock(&mut self) -> bool {
        match self.rng.below(100) {
            0..=44 => self.row_cycle(2, false),
            45..=64 => self.row_cycle(2, true),
            65..=74 => self.row_cycle(3, false),
            75..=89 => self.upgrade_deadlock(),
            _ => self.relation_deadlock(),
        }
    }

    /// k transactions each lock one row, then each asks for the next one's row.
    /// `fast`: the second blocks within deadlock_timeout of the first, so the first detects.
    fn row_cycle(&mut self, k: usize, fast: bool) -> bool {
        let mut ps = Vec::new();
        for _ in 0..k {
            match self.pick_idle(false, &ps) {
                Some(s) => ps.push(s),
                None => return false,
            }
        }
        let same_table = self.rng.pct(30);
        let t0 = self.hot_table();
        let tables: Vec<usize> = (0..k)
            .map(|i| {
                if same_table || i == 0 {
                    t0
                } else {
                    (t0 + 1 + self.rng.below(12) as usize) % self.tables.len()
                }
            })
            .collect();
        let ids = self.distinct_ids(k);
        let xids: Vec<u64> = (0..k).map(|_| self.next_xid()).collect();
        let pids: Vec<u32> = ps.iter().map(|&s| self.sessions[s].pid).collect();
        let whos: Vec<Vec<u8>> = ps
            .iter()
            .map(|&s| self.sessions[s].prefix.clone())
            .collect();
        let mut steps: Vec<Step> = Vec::new();
        // Opening statements: each takes its own row.
        for i in 0..k {
            let ev = self.ctl_entry(ps[i], "BEGIN");
            add(&mut steps, self.rng.range(2 * MS, 60 * MS), &whos[i], ev);
            if self.rng.pct(50) {
                let ts = &self.cat.by_table[(tables[i] + 3) % self.tables.len()];
                let shape = ts.sel_by_id[self.rng.below(ts.sel_by_id.len() as u64) as usize];
                let id = 1 + self.rng.below(200_000);
                let (lines, _) = self.entry(ps[i], shape, &[id]);
                add(
                    &mut steps,
                    self.rng.range(MS, 20 * MS),
                    &whos[i],
                    Ev::Lines(lines),
                );
            }
            let ts = &self.cat.by_table[tables[i]];
            let list = if self.rng.pct(70) {
                &ts.upd_by_id
            } else {
                &ts.lock_by_id
            };
            let shape = list[self.rng.below(list.len() as u64) as usize];
            let (lines, _) = self.entry(ps[i], shape, &[ids[i]]);
            add(
                &mut steps,
                self.rng.range(MS, 30 * MS),
                &whos[i],
                Ev::Lines(lines),
            );
        }
        // Second statements: i wants row i+1.
        let mut queries = Vec::new();
        let mut contexts = Vec::new();
        let mut blocked_at = Vec::new();
        for i in 0..k {
            let j = (i + 1) % k;
            let ts = &self.cat.by_table[tables[j]];
            let list = if self.rng.pct(70) {
                &ts.upd_by_id
            } else {
                &ts.lock_by_id
            };
            let shape = list[self.rng.below(list.len() as u64) as usize];
            let op = self.cat.shapes[shape as usize].op;
            let (lines, q) = self.entry(ps[i], shape, &[ids[j]]);
            let delay = if fast && i > 0 {
                self.rng.range(100 * MS, 800 * MS)
            } else if i > 0 {
                self.rng.range(20 * MS, 700 * MS)
            } else {
                self.rng.range(5 * MS, 300 * MS)
            };
            blocked_at.push(add(&mut steps, delay, &whos[i], Ev::Lines(lines)));
            queries.push(q);
            contexts.push(self.row_context(op, tables[j], ids[j]));
            if !fast && i + 1 < k {
                let target = format!("transaction {}", xids[j]);
                let ev = Self::wait_ev(
                    pids[i],
                    "still waiting for",
                    "ShareLock",
                    &target,
                    &[pids[j]],
                    &[pids[i]],
                    contexts[i].as_deref(),
                    &queries[i],
                    blocked_at[i],
                );
                add(&mut steps, SECOND + self.rng.range(60, 250), &whos[i], ev);
            }
        }
        // The detector: the last to block (slow), or the first (fast: its timer fires first,
        // 1 s after it blocked, while the second has waited less than that).
        let d = if fast { 0 } else { k - 1 };
        let delay = if fast {
            let gap = steps[blocked_at[1]].delay;
            (SECOND + self.rng.range(60, 250))
                .saturating_sub(gap)
                .max(MS)
        } else {
            SECOND + self.rng.range(60, 250)
        };
        let target_d = format!("transaction {}", xids[(d + 1) % k]);
        let ev = Self::wait_ev(
            pids[d],
            "detected deadlock while waiting for",
            "ShareLock",
            &target_d,
            &[pids[(d + 1) % k]],
            &[],
            contexts[d].as_deref(),
            &queries[d],
            blocked_at[d],
        );
        add(&mut steps, delay, &whos[d], ev);
        let order: Vec<usize> = (0..k).map(|i| (d + i) % k).collect();
        let edges: Vec<(u32, String, u32)> = order
            .iter()
            .map(|&i| {
                let j = (i + 1) % k;
                (
                    pids[i],
                    format!("ShareLock on transaction {}", xids[j]),
                    pids[j],
                )
            })
            .collect();
        let procs: Vec<(u32, Vec<u8>)> = order
            .iter()
            .map(|&i| (pids[i], queries[i].clone()))
            .collect();
        let ev = Self::deadlock_ev(&edges, &procs, contexts[d].as_deref(), &queries[d]);
        add(&mut steps, 0, &whos[d], ev);
        // Unwind: the victim's locks go at the error; the process waiting on it gets its row,
        // finishes and commits, which frees the one waiting on it, and so on around the cycle.
        let mut waiter = (d + k - 1) % k;
        let mut victim_done = false;
        while waiter != d {
            let holder = (waiter + 1) % k;
            if fast {
                // It never logged a wait (it waited < deadlock_timeout); its statement is
                // logged as slow only if it took ≥ 250 ms.
                if delay >= 250 * MS {
                    let ev = Self::duration_ev(blocked_at[waiter]);
                    add(&mut steps, self.rng.range(100, 600), &whos[waiter], ev);
                }
            } else {
                let target = format!("transaction {}", xids[holder]);
                let ev = Self::wait_ev(
                    pids[waiter],
                    "acquired",
                    "ShareLock",
                    &target,
                    &[],
                    &[],
                    contexts[waiter].as_deref(),
                    &queries[waiter],
                    blocked_at[waiter],
                );
                add(&mut steps, self.rng.range(50, 400), &whos[waiter], ev);
                let ev = Self::duration_ev(blocked_at[waiter]);
                add(&mut steps, self.rng.range(100, 600), &whos[waiter], ev);
            }
            if !victim_done {
                let ev = self.ctl_entry(ps[d], "ROLLBACK");
                add(&mut steps, self.rng.range(MS, 4 * MS), &whos[d], ev);
                victim_done = true;
            }
            let ev = self.ctl_entry(ps[waiter], "COMMIT");
            add(&mut steps, self.rng.range(MS, 40 * MS), &whos[waiter], ev);
            waiter = (waiter + k - 1) % k;
        }
        self.schedule(steps, ps, k as u64, 1, 0);
        true
    }

    /// Two transactions read-lock the same row FOR SHARE, then both UPDATE it.
    fn upgrade_deadlock(&mut self) -> bool {
        let Some(a) = self.pick_idle(false, &[]) else {
            return false;
        };
        let Some(b) = self.pick_idle(false, &[a]) else {
            return false;
        };
        let t = self.hot_table();
        let id = 1 + self.rng.below(200_000);
        let (xa, xb) = (self.next_xid(), self.next_xid());
        let (pa, pb) = (self.sessions[a].pid, self.sessions[b].pid);
        let (wa, wb) = (
            self.sessions[a].prefix.clone(),
            self.sessions[b].prefix.clone(),
        );
        let ts = &self.cat.by_table[t];
        let share_a = ts.share_by_id[self.rng.below(ts.share_by_id.len() as u64) as usize];
        let share_b = ts.share_by_id[self.rng.below(ts.share_by_id.len() as u64) as usize];
        let upd_a = ts.upd_by_id[self.rng.below(ts.upd_by_id.len() as u64) as usize];
        let upd_b = ts.upd_by_id[self.rng.below(ts.upd_by_id.len() as u64) as usize];
        let ctx = self.row_context(RowOp::Updating, t, id);
        let mut steps = Vec::new();
        let ev = self.ctl_entry(a, "BEGIN");
        add(&mut steps, self.rng.range(MS, 30 * MS), &wa, ev);
        let (l, _) = self.entry(a, share_a, &[id]);
        add(&mut steps, self.rng.range(MS, 20 * MS), &wa, Ev::Lines(l));
        let ev = self.ctl_entry(b, "BEGIN");
        add(&mut steps, self.rng.range(MS, 80 * MS), &wb, ev);
        let (l, _) = self.entry(b, share_b, &[id]);
        add(&mut steps, self.rng.range(MS, 20 * MS), &wb, Ev::Lines(l));
        let (l, qa) = self.entry(a, upd_a, &[id]);
        let block_a = add(
            &mut steps,
            self.rng.range(5 * MS, 200 * MS),
            &wa,
            Ev::Lines(l),
        );
        let ev = Self::wait_ev(
            pa,
            "still waiting for",
            "ShareLock",
            &format!("transaction {xb}"),
            &[pb],
            &[pa],
            ctx.as_deref(),
            &qa,
            block_a,
        );
        add(&mut steps, SECOND + self.rng.range(60, 250), &wa, ev);
        let (l, qb) = self.entry(b, upd_b, &[id]);
        let block_b = add(
            &mut steps,
            self.rng.range(20 * MS, 600 * MS),
            &wb,
            Ev::Lines(l),
        );
        let ev = Self::wait_ev(
            pb,
            "detected deadlock while waiting for",
            "ShareLock",
            &format!("transaction {xa}"),
            &[pa],
            &[],
            ctx.as_deref(),
            &qb,
            block_b,
        );
        add(&mut steps, SECOND + self.rng.range(60, 250), &wb, ev);
        let edges = [
            (pb, format!("ShareLock on transaction {xa}"), pa),
            (pa, format!("ShareLock on transaction {xb}"), pb),
        ];
        let ev = Self::deadlock_ev(
            &edges,
            &[(pb, qb.clone()), (pa, qa.clone())],
            ctx.as_deref(),
            &qb,
        );
        add(&mut steps, 0, &wb, ev);
        let ev = self.ctl_entry(b, "ROLLBACK");
        add(&mut steps, self.rng.range(200, 2 * MS), &wb, ev);
        let ev = Self::wait_ev(
            pa,
            "acquired",
            "ShareLock",
            &format!("transaction {xb}"),
            &[],
            &[],
            ctx.as_deref(),
            &qa,
            block_a,
        );
        add(&mut steps, self.rng.range(50, 3 * MS), &wa, ev);
        add(
            &mut steps,
            self.rng.range(100, 600),
            &wa,
            Self::duration_ev(block_a),
        );
        let ev = self.ctl_entry(a, "COMMIT");
        add(&mut steps, self.rng.range(MS, 700 * MS), &wa, ev);
        self.schedule(steps, vec![a, b], 2, 1, 0);
        true
    }

    /// A migration (B: LOCK TABLE t2, then ALTER TABLE t1) against an application
    /// transaction (A: UPDATE t1, then SELECT t2).
    fn relation_deadlock(&mut self) -> bool {
        let Some(a) = self.pick_idle(false, &[]) else {
            return false;
        };
        let Some(b) = self.pick_idle(true, &[a]) else {
            return false;
        };
        let t1 = self.hot_table();
        let t2 = (t1 + 1 + self.rng.below(10) as usize) % self.tables.len();
        let (x, y) = (1 + self.rng.below(200_000), 1 + self.rng.below(200_000));
        let (pa, pb) = (self.sessions[a].pid, self.sessions[b].pid);
        let (wa, wb) = (
            self.sessions[a].prefix.clone(),
            self.sessions[b].prefix.clone(),
        );
        let rel = |t: &Table| format!("relation {} of database {DB_OID}", t.oid);
        let (r1, r2) = (rel(&self.tables[t1]), rel(&self.tables[t2]));
        let ts1 = &self.cat.by_table[t1];
        let upd = ts1.upd_by_id[self.rng.below(ts1.upd_by_id.len() as u64) as usize];
        let ts2 = &self.cat.by_table[t2];
        let sel = ts2.sel_by_id[self.rng.below(ts2.sel_by_id.len() as u64) as usize];
        let lock_sql = format!(
            "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
            self.tables[t2].name
        );
        let alter_sql = format!(
            "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}",
            self.tables[t1].name,
            self.rng
                .pick(&["archived_at", "legacy_ref", "note", "flags", "version"]),
            self.rng.pick(&["timestamptz", "bigint", "text", "integer"])
        );
        let mut steps = Vec::new();
        let ev = self.ctl_entry(a, "BEGIN");
        add(&mut steps, self.rng.range(MS, 30 * MS), &wa, ev);
        let (l, _) = self.entry(a, upd, &[x]);
        add(&mut steps, self.rng.range(MS, 20 * MS), &wa, Ev::Lines(l));
        let ev = self.ctl_entry(b, "BEGIN");
        add(&mut steps, self.rng.range(MS, 80 * MS), &wb, ev);
        let ev = self.ctl_entry(b, &lock_sql);
        add(&mut steps, self.rng.range(MS, 10 * MS), &wb, ev);
        let ev = self.ctl_entry(b, &alter_sql);
        let block_b = add(&mut steps, self.rng.range(MS, 10 * MS), &wb, ev);
        let ev = Self::wait_ev(
            pb,
            "still waiting for",
            "AccessExclusiveLock",
            &r1,
            &[pa],
            &[pb],
            None,
            alter_sql.as_bytes(),
            block_b,
        );
        add(&mut steps, SECOND + self.rng.range(60, 250), &wb, ev);
        let (l, qa) = self.entry(a, sel, &[y]);
        let block_a = add(
            &mut steps,
            self.rng.range(10 * MS, 600 * MS),
            &wa,
            Ev::Lines(l),
        );
        let ev = Self::wait_ev(
            pa,
            "detected deadlock while waiting for",
            "AccessShareLock",
            &r2,
            &[pb],
            &[],
            None,
            &qa,
            block_a,
        );
        add(&mut steps, SECOND + self.rng.range(60, 250), &wa, ev);
        let edges = [
            (pa, format!("AccessShareLock on {r2}"), pb),
            (pb, format!("AccessExclusiveLock on {r1}"), pa),
        ];
        let ev = Self::deadlock_ev(
            &edges,
            &[(pa, qa.clone()), (pb, alter_sql.clone().into_bytes())],
            None,
            &qa,
        );
        add(&mut steps, 0, &wa, ev);
        let ev = Self::wait_ev(
            pb,
            "acquired",
            "AccessExclusiveLock",
            &r1,
            &[],
            &[],
            None,
            alter_sql.as_bytes(),
            block_b,
        );
        add(&mut steps, self.rng.range(50, 2 * MS), &wb, ev);
        let ev = self.ctl_entry(a, "ROLLBACK");
        add(&mut steps, self.rng.range(200, 2 * MS), &wa, ev);
        add(
            &mut steps,
            self.rng.range(MS, 30 * MS),
            &wb,
            Self::duration_ev(block_b),
        );
        let ev = self.ctl_entry(b, "COMMIT");
        add(&mut steps, self.rng.range(MS, 30 * MS), &wb, ev);
        self.schedule(steps, vec![a, b], 2, 1, 0);
        true
    }

    /// A row or relation lock wait that ends without a deadlock.
    fn start_lock_wait(&mut self) -> bool {
        if self.rng.pct(30) {
            return self.relation_wait();
        }
        let timeout = self.rng.pct(25);
        let third = !timeout && self.rng.pct(30);
        let Some(a) = self.pick_idle(false, &[]) else {
            return false;
        };
        let Some(b) = self.pick_idle(false, &[a]) else {
            return false;
        };
        let c = if third {
            match self.pick_idle(false, &[a, b]) {
                Some(c) => Some(c),
                None => return false,
            }
        } else {
            None
        };
        let t = self.hot_table();
        let id = 1 + self.rng.below(200_000);
        let xa = self.next_xid();
        let (pa, pb) = (self.sessions[a].pid, self.sessions[b].pid);
        let (wa, wb) = (
            self.sessions[a].prefix.clone(),
            self.sessions[b].prefix.clone(),
        );
        let ts = &self.cat.by_table[t];
        let pick = |rng: &mut Rng, ts: &TableShapes| {
            let list = if rng.pct(70) {
                &ts.upd_by_id
            } else {
                &ts.lock_by_id
            };
            list[rng.below(list.len() as u64) as usize]
        };
        let sa = pick(&mut self.rng, ts);
        let sb = pick(&mut self.rng, ts);
        let sc = pick(&mut self.rng, ts);
        let op_b = self.cat.shapes[sb as usize].op;
        let ctx_b = self.row_context(op_b, t, id);
        let (bo, oo) = Self::tuple_of(id);
        let tuple = format!(
            "tuple ({bo},{oo}) of relation {} of database {DB_OID}",
            self.tables[t].oid
        );
        let mut steps = Vec::new();
        let ev = self.ctl_entry(a, "BEGIN");
        add(&mut steps, self.rng.range(MS, 30 * MS), &wa, ev);
        let (l, _) = self.entry(a, sa, &[id]);
        add(&mut steps, self.rng.range(MS, 20 * MS), &wa, Ev::Lines(l));
        if timeout {
            let ev = self.ctl_entry(b, "SET lock_timeout = '2s'");
            add(&mut steps, self.rng.range(MS, 200 * MS), &wb, ev);
        }
        let ev = self.ctl_entry(b, "BEGIN");
        add(&mut steps, self.rng.range(MS, 200 * MS), &wb, ev);
        let (l, qb) = self.entry(b, sb, &[id]);
        let block_b = add(&mut steps, self.rng.range(MS, 30 * MS), &wb, Ev::Lines(l));
        let ev = Self::wait_ev(
            pb,
            "still waiting for",
            "ShareLock",
            &format!("transaction {xa}"),
            &[pa],
            &[pb],
            ctx_b.as_deref(),
            &qb,
            block_b,
        );
        add(&mut steps, SECOND + self.rng.range(60, 250), &wb, ev);
        let mut txns = 2;
        if timeout {
            let mut lines = vec![b"ERROR:  canceling statement due to lock timeout".to_vec()];
            if let Some(cx) = &ctx_b {
                lines.push(cx.clone());
            }
            let mut st = b"STATEMENT:  ".to_vec();
            st.extend_from_slice(&qb);
            lines.push(st);
            add(&mut steps, SECOND, &wb, Ev::Lines(lines));
            let ev = self.ctl_entry(b, "ROLLBACK");
            add(&mut steps, self.rng.range(200, 3 * MS), &wb, ev);
            let ev = self.ctl_entry(a, "COMMIT");
            add(&mut steps, self.rng.range(10 * MS, 2 * SECOND), &wa, ev);
            self.stats.errors += 1;
            self.schedule(steps, vec![a, b], txns, 0, 1);
            return true;
        }
        let mut block_c = 0;
        let mut qc = Vec::new();
        let mut wc = Vec::new();
        if let Some(c) = c {
            let pc = self.sessions[c].pid;
            wc = self.sessions[c].prefix.clone();
            let ev = self.ctl_entry(c, "BEGIN");
            add(&mut steps, self.rng.range(MS, 100 * MS), &wc, ev);
            let (l, q) = self.entry(c, sc, &[id]);
            qc = q;
            block_c = add(&mut steps, self.rng.range(MS, 30 * MS), &wc, Ev::Lines(l));
            let ev = Self::wait_ev(
                pc,
                "still waiting for",
                "ExclusiveLock",
                &tuple,
                &[pb],
                &[pc],
                None,
                &qc,
                block_c,
            );
            add(&mut steps, SECOND + self.rng.range(60, 250), &wc, ev);
            txns += 1;
        }
        let ev = self.ctl_entry(a, "COMMIT");
        add(&mut steps, self.rng.range(50 * MS, 2 * SECOND), &wa, ev);
        let ev = Self::wait_ev(
            pb,
            "acquired",
            "ShareLock",
            &format!("transaction {xa}"),
            &[],
            &[],
            ctx_b.as_deref(),
            &qb,
            block_b,
        );
        add(&mut steps, self.rng.range(100, 5 * MS), &wb, ev);
        if let Some(c) = c {
            let pc = self.sessions[c].pid;
            let ev = Self::wait_ev(
                pc,
                "acquired",
                "ExclusiveLock",
                &tuple,
                &[],
                &[],
                None,
                &qc,
                block_c,
            );
            add(&mut steps, self.rng.range(20, 300), &wc, ev);
        }
        add(
            &mut steps,
            self.rng.range(100, 900),
            &wb,
            Self::duration_ev(block_b),
        );
        let ev = self.ctl_entry(b, "COMMIT");
        add(&mut steps, self.rng.range(MS, 20 * MS), &wb, ev);
        if let Some(c) = c {
            add(
                &mut steps,
                self.rng.range(MS, 5 * MS),
                &wc,
                Self::duration_ev(block_c),
            );
            let ev = self.ctl_entry(c, "COMMIT");
            add(&mut steps, self.rng.range(MS, 20 * MS), &wc, ev);
        }
        let mut ps = vec![a, b];
        ps.extend(c);
        self.schedule(steps, ps, txns, 0, 1);
        true
    }

    /// DDL (ALTER TABLE / CREATE INDEX) queued behind one or two writers.
    fn relation_wait(&mut self) -> bool {
        let Some(a) = self.pick_idle(false, &[]) else {
            return false;
        };
        let Some(b) = self.pick_idle(true, &[a]) else {
            return false;
        };
        let c = if self.rng.pct(50) {
            self.pick_idle(false, &[a, b])
        } else {
            None
        };
        let t = self.hot_table();
        let tb = &self.tables[t];
        let target = format!("relation {} of database {DB_OID}", tb.oid);
        let col = tb.cols[self.rng.below(tb.cols.len() as u64) as usize]
            .0
            .clone();
        let (mode, ddl) = if self.rng.pct(60) {
            (
                "AccessExclusiveLock",
                format!(
                    "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}",
                    tb.name,
                    self.rng
                        .pick(&["archived_at", "legacy_ref", "note", "flags", "version"]),
                    self.rng.pick(&["timestamptz", "bigint", "text", "integer"])
                ),
            )
        } else {
            (
                "ShareLock",
                format!("CREATE INDEX {0}_{col}_idx ON {0} ({col})", tb.name),
            )
        };
        let ts = &self.cat.by_table[t];
        let ua = ts.upd_by_id[self.rng.below(ts.upd_by_id.len() as u64) as usize];
        let uc = ts.upd_by_id[self.rng.below(ts.upd_by_id.len() as u64) as usize];
        let ids = self.distinct_ids(2);
        let wa = self.sessions[a].prefix.clone();
        let wb = self.sessions[b].prefix.clone();
        let mut holders = vec![self.sessions[a].pid];
        let mut steps = Vec::new();
        let ev = self.ctl_entry(a, "BEGIN");
        add(&mut steps, self.rng.range(MS, 30 * MS), &wa, ev);
        let (l, _) = self.entry(a, ua, &[ids[0]]);
        add(&mut steps, self.rng.range(MS, 20 * MS), &wa, Ev::Lines(l));
        let mut wc = Vec::new();
        if let Some(c) = c {
            wc = self.sessions[c].prefix.clone();
            holders.push(self.sessions[c].pid);
            holders.sort_unstable();
            let ev = self.ctl_entry(c, "BEGIN");
            add(&mut steps, self.rng.range(MS, 30 * MS), &wc, ev);
            let (l, _) = self.entry(c, uc, &[ids[1]]);
            add(&mut steps, self.rng.range(MS, 20 * MS), &wc, Ev::Lines(l));
        }
        let ev = self.ctl_entry(b, &ddl);
        let block = add(&mut steps, self.rng.range(MS, 100 * MS), &wb, ev);
        let pb = self.sessions[b].pid;
        let ev = Self::wait_ev(
            pb,
            "still waiting for",
            mode,
            &target,
            &holders,
            &[pb],
            None,
            ddl.as_bytes(),
            block,
        );
        add(&mut steps, SECOND + self.rng.range(60, 250), &wb, ev);
        let ev = self.ctl_entry(a, "COMMIT");
        add(&mut steps, self.rng.range(10 * MS, 2 * SECOND), &wa, ev);
        if let Some(c) = c {
            let ev = self.ctl_entry(c, "COMMIT");
            add(&mut steps, self.rng.range(10 * MS, SECOND), &wc, ev);
        }
        let ev = Self::wait_ev(
            pb,
            "acquired",
            mode,
            &target,
            &[],
            &[],
            None,
            ddl.as_bytes(),
            block,
        );
        add(&mut steps, self.rng.range(100, 5 * MS), &wb, ev);
        add(
            &mut steps,
            self.rng.range(MS, 40 * MS),
            &wb,
            Self::duration_ev(block),
        );
        let mut ps = vec![a, b];
        ps.extend(c);
        let txns = ps.len() as u64;
        self.schedule(steps, ps, txns, 0, 1);
        true
    }

    // ---- background processes -----------------------------------------------------------

    fn schedule_checkpoint(&mut self) {
        let who = self.checkpointer.clone();
        let write_us = self.rng.range(20 * SECOND, 40 * SECOND);
        let buffers = self.rng.range(200, 20_000);
        let files = self.rng.range(20, 900);
        let distance = self.rng.range(2_000, 200_000);
        let complete = format!(
            "LOG:  checkpoint complete: wrote {buffers} buffers ({}.{}%); 0 WAL file(s) added, 0 removed, {} recycled; \
write={}.{:03} s, sync={}.{:03} s, total={}.{:03} s; sync files={files}, longest=0.{:03} s, average=0.{:03} s; \
distance={distance} kB, estimate={} kB",
            buffers * 100 / 16_384,
            buffers * 1000 / 16_384 % 10,
            self.rng.range(0, 3),
            write_us / SECOND,
            write_us / MS % 1000,
            0,
            self.rng.range(5, 90),
            write_us / SECOND,
            (write_us / MS + 60) % 1000,
            self.rng.range(1, 9),
            self.rng.range(0, 2),
            distance + self.rng.range(0, 50_000),
        );
        let steps = vec![
            Step {
                delay: 0,
                who: who.clone(),
                ev: Ev::Lines(vec![b"LOG:  checkpoint starting: time".to_vec()]),
            },
            Step {
                delay: write_us + self.rng.range(10 * MS, 80 * MS),
                who,
                ev: Ev::Lines(vec![complete.into_bytes()]),
            },
        ];
        self.schedule(steps, Vec::new(), 0, 0, 0);
    }

    fn autovacuum(&mut self) {
        let t = self.rng.below(self.tables.len() as u64) as usize;
        let name = self.tables[t].name.clone();
        let pid = self.alloc_pid();
        let who = format!("[{pid}] ").into_bytes();
        let pages = self.rng.range(10, 90_000);
        let tuples = self.rng.range(1_000, 2_000_000);
        let removed = self.rng.range(0, tuples / 10);
        let body = if self.rng.pct(65) {
            let xmin = self.xid.saturating_sub(self.rng.range(1, 40));
            format!(
                "automatic vacuum of table \"shop.public.{name}\": index scans: {}\n\
pages: 0 removed, {pages} remain, {} scanned ({}.{:02}% of total)\n\
tuples: {removed} removed, {tuples} remain, {} are dead but not yet removable\n\
removable cutoff: {xmin}, which was {} XIDs old when operation ended\n\
index scan needed: {} pages from table ({}.{:02}% of total) had {removed} dead item identifiers removed\n\
avg read rate: {}.{:03} MB/s, avg write rate: {}.{:03} MB/s\n\
buffer usage: {} hits, {} misses, {} dirtied\n\
WAL usage: {} records, {} full page images, {} bytes\n\
system usage: CPU: user: 0.{:02} s, system: 0.{:02} s, elapsed: {}.{:02} s",
                self.rng.range(0, 1),
                pages / 3,
                self.rng.range(5, 99),
                self.rng.range(0, 99),
                self.rng.range(0, 40),
                self.rng.range(0, 60),
                pages / 20,
                self.rng.range(0, 9),
                self.rng.range(0, 99),
                self.rng.range(0, 40),
                self.rng.range(0, 999),
                self.rng.range(0, 20),
                self.rng.range(0, 999),
                pages,
                self.rng.range(0, 500),
                self.rng.range(0, 900),
                removed + 10,
                self.rng.range(0, 200),
                self.rng.range(1_000, 2_000_000),
                self.rng.range(0, 99),
                self.rng.range(0, 99),
                self.rng.range(0, 3),
                self.rng.range(0, 99),
            )
        } else {
            format!(
                "automatic analyze of table \"shop.public.{name}\"\n\
avg read rate: {}.{:03} MB/s, avg write rate: {}.{:03} MB/s\n\
buffer usage: {} hits, {} misses, {} dirtied\n\
system usage: CPU: user: 0.{:02} s, system: 0.{:02} s, elapsed: 0.{:02} s",
                self.rng.range(0, 60),
                self.rng.range(0, 999),
                self.rng.range(0, 5),
                self.rng.range(0, 999),
                self.rng.range(100, 30_000),
                self.rng.range(0, 3_000),
                self.rng.range(0, 50),
                self.rng.range(0, 99),
                self.rng.range(0, 99),
                self.rng.range(0, 99),
            )
        };
        let mut line = b"LOG:  ".to_vec();
        push_tabbed(&mut line, &body);
        self.out.line(&who, &line);
        self.pid_used[pid as usize] = false;
    }
}

// ---------------------------------------------------------------------------------------------

fn open_sink(args: &Args) -> io::Result<Sink> {
    if args.gzip {
        let mut cmd = Command::new("gzip");
        cmd.arg("-c").arg("-1").stdin(Stdio::piped());
        if args.out == "-" {
            cmd.stdout(Stdio::inherit());
        } else {
            cmd.stdout(File::create(&args.out)?);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot run gzip: {e}")))?;
        let stdin = child.stdin.take();
        return Ok(Sink::Gzip(child, stdin));
    }
    if args.out == "-" {
        return Ok(Sink::Stdout(io::stdout()));
    }
    Ok(Sink::File(File::create(&args.out)?))
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gen_log: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let sink = match open_sink(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gen_log: {}: {e}", args.out);
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let mut g = Gen::new(&args, sink);
    let target = args.size_mb * 1024 * 1024;
    while g.out.total() < target && g.out.error.is_none() {
        for _ in 0..1024 {
            g.tick();
        }
    }
    // Let scripted scenarios and open transactions finish; start nothing new.
    g.draining = true;
    loop {
        let open = g.heap.len() + g.sessions.iter().filter(|s| s.state != State::Idle).count();
        if open == 0 || g.out.error.is_some() {
            break;
        }
        for _ in 0..4096 {
            g.tick();
        }
    }
    let bytes = g.out.total();
    let entries = g.out.entries;
    let shapes = g.cat.shapes.len();
    let st = std::mem::take(&mut g.stats);
    if let Err(e) = g.out.finish() {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("gen_log: {}: {e}", args.out);
        std::process::exit(2);
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "gen_log: bytes={bytes} entries={entries} transactions={} autocommit={} statements={} \
deadlocks={} lock_waits={} errors={} slow={} pids={} shapes={shapes} seed={} seconds={secs:.2} mb_per_s={:.0}",
        st.transactions,
        st.autocommit,
        st.statements,
        st.deadlocks,
        st.lock_waits,
        st.errors,
        st.slow,
        st.pids,
        args.seed,
        bytes as f64 / (1024.0 * 1024.0) / secs.max(1e-9),
    );
}

/// Appends a step and returns its index.
fn add(steps: &mut Vec<Step>, delay: u64, who: &[u8], ev: Ev) -> usize {
    steps.push(Step {
        delay,
        who: who.to_vec(),
        ev,
    });
    steps.len() - 1
}
