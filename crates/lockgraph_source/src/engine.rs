//! Which database engine a file talks to, read from the drivers it imports and the connection
//! URLs it spells out, and which engine each transaction therefore runs on.
//!
//! Every language has its own table of driver markers ([`MARKERS`]): import lines of the
//! PostgreSQL, MySQL/MariaDB and SQLite drivers and ORMs' dialect names, plus connection URLs
//! (`sqlite+aiosqlite:///…`, `mysql://…`, `jdbc:postgresql:…`) written inside a string literal
//! in any language. SQL files name an engine by dialect-only syntax: `ENGINE=InnoDB` for MySQL,
//! `PRAGMA` and `WITHOUT ROWID` for SQLite.
//!
//! [`assign_engines`] decides per transaction, first match wins: a configured engine for its
//! file → the engine its files name (the file it starts in, and the files of the statements it
//! reaches through calls), when they name exactly one → the configured default → for source
//! files, the engine the project's source files name when they name exactly one → PostgreSQL.

use crate::lang::Lang;
use lockgraph_core::{Engine, Transaction};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// A set of engines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EngineSet(u8);

impl EngineSet {
    /// Adds `e`.
    pub fn insert(&mut self, e: Engine) {
        self.0 |= 1 << e as u8;
    }

    /// Whether `e` is in the set.
    pub fn contains(self, e: Engine) -> bool {
        self.0 & (1 << e as u8) != 0
    }

    /// Both sets together.
    pub fn union(self, other: EngineSet) -> EngineSet {
        EngineSet(self.0 | other.0)
    }

    /// The engine, when the set holds exactly one.
    pub fn single(self) -> Option<Engine> {
        (self.0.count_ones() == 1).then(|| {
            Engine::ALL
                .into_iter()
                .find(|e| self.contains(*e))
                .expect("one bit is set")
        })
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The markers of one language: a pattern per engine (multi-line mode: `^` is a line start).
struct Markers {
    lang: Option<Lang>,
    engine: Engine,
    pattern: &'static str,
}

/// Driver markers by language; `lang: None` applies to every language (URLs in strings).
const MARKERS: &[Markers] = &[
    // Connection URLs in a string literal, any language: SQLAlchemy (`sqlite+aiosqlite://`,
    // `mysql+pymysql://`, `postgresql+asyncpg://`), libpq and JDBC.
    Markers {
        lang: None,
        engine: Engine::Sqlite,
        pattern: r#"["'`](?:jdbc:)?sqlite(?:3)?(?:\+\w+)?:"#,
    },
    Markers {
        lang: None,
        engine: Engine::Mysql,
        pattern: r#"["'`](?:jdbc:)?(?:mysql|mariadb)(?:\+\w+)?:"#,
    },
    Markers {
        lang: None,
        engine: Engine::Postgres,
        pattern: r#"["'`](?:jdbc:)?postgres(?:ql)?(?:\+\w+)?:"#,
    },
    // Python: `import sqlite3`, `from aiosqlite import connect`, `import pymysql`, …
    Markers {
        lang: Some(Lang::Python),
        engine: Engine::Sqlite,
        pattern: r"^\s*(?:from|import)\s+(?:sqlite3|aiosqlite)\b",
    },
    Markers {
        lang: Some(Lang::Python),
        engine: Engine::Mysql,
        pattern: r"^\s*(?:from|import)\s+(?:pymysql|MySQLdb|aiomysql|asyncmy|mysql\.connector|mariadb)\b",
    },
    Markers {
        lang: Some(Lang::Python),
        engine: Engine::Postgres,
        pattern: r"^\s*(?:from|import)\s+(?:psycopg2?|psycopg_pool|asyncpg|pg8000)\b",
    },
    // Go: driver packages, and the driver name given to `sql.Open`.
    Markers {
        lang: Some(Lang::Go),
        engine: Engine::Sqlite,
        pattern: r#""(?:github\.com/mattn/go-sqlite3|modernc\.org/sqlite|github\.com/glebarez/go-sqlite|gorm\.io/driver/sqlite)"|sql\.Open\(\s*"sqlite3?""#,
    },
    Markers {
        lang: Some(Lang::Go),
        engine: Engine::Mysql,
        pattern: r#""(?:github\.com/go-sql-driver/mysql|gorm\.io/driver/mysql)"|sql\.Open\(\s*"mysql""#,
    },
    Markers {
        lang: Some(Lang::Go),
        engine: Engine::Postgres,
        pattern: r#""(?:github\.com/lib/pq|github\.com/jackc/pgx[^"]*|gorm\.io/driver/postgres)"|sql\.Open\(\s*"(?:postgres|pgx)""#,
    },
    // Java and Kotlin: driver packages (JDBC URLs are covered by the URL markers).
    Markers {
        lang: Some(Lang::Java),
        engine: Engine::Sqlite,
        pattern: r"^\s*import\s+org\.sqlite\.",
    },
    Markers {
        lang: Some(Lang::Java),
        engine: Engine::Mysql,
        pattern: r"^\s*import\s+(?:com\.mysql\.|org\.mariadb\.)",
    },
    Markers {
        lang: Some(Lang::Java),
        engine: Engine::Postgres,
        pattern: r"^\s*import\s+org\.postgresql\.",
    },
    // JavaScript and TypeScript: `require('pg')`, `import mysql from 'mysql2/promise'`, knex's
    // `client: 'pg'`.
    Markers {
        lang: Some(Lang::JavaScript),
        engine: Engine::Sqlite,
        pattern: r#"(?:require\(\s*|from\s+|import\s+|client:\s*)["'](?:sqlite3|better-sqlite3|sqlite|@libsql/client)(?:/[^"']*)?["']"#,
    },
    Markers {
        lang: Some(Lang::JavaScript),
        engine: Engine::Mysql,
        pattern: r#"(?:require\(\s*|from\s+|import\s+|client:\s*)["'](?:mysql2?|mariadb)(?:/[^"']*)?["']"#,
    },
    Markers {
        lang: Some(Lang::JavaScript),
        engine: Engine::Postgres,
        pattern: r#"(?:require\(\s*|from\s+|import\s+|client:\s*)["'](?:pg|postgres|pg-promise|@neondatabase/serverless)(?:/[^"']*)?["']"#,
    },
    // Ruby: `require "pg"`, ActiveRecord's `adapter: "mysql2"`.
    Markers {
        lang: Some(Lang::Ruby),
        engine: Engine::Sqlite,
        pattern: r#"(?:require\s*\(?\s*|adapter:\s*)["']sqlite3["']"#,
    },
    Markers {
        lang: Some(Lang::Ruby),
        engine: Engine::Mysql,
        pattern: r#"(?:require\s*\(?\s*|adapter:\s*)["'](?:mysql2|trilogy)["']"#,
    },
    Markers {
        lang: Some(Lang::Ruby),
        engine: Engine::Postgres,
        pattern: r#"(?:require\s*\(?\s*|adapter:\s*)["'](?:pg|postgresql)["']"#,
    },
    // Rust: crate paths in `use` items and expressions.
    Markers {
        lang: Some(Lang::Rust),
        engine: Engine::Sqlite,
        pattern: r"\b(?:rusqlite|sqlx::sqlite|sqlx::Sqlite\w*|diesel::sqlite)\b",
    },
    Markers {
        lang: Some(Lang::Rust),
        engine: Engine::Mysql,
        pattern: r"\b(?:mysql_async|sqlx::mysql|sqlx::MySql\w*|diesel::mysql)\b|^\s*use\s+mysql::",
    },
    Markers {
        lang: Some(Lang::Rust),
        engine: Engine::Postgres,
        pattern: r"\b(?:tokio_postgres|sqlx::postgres|sqlx::Pg\w*|diesel::pg|deadpool_postgres)\b|^\s*use\s+postgres::",
    },
];

/// SQL files: dialect-only syntax.
const SQL_MARKERS: &[(Engine, &str)] = &[
    (Engine::Mysql, r"(?i)\bENGINE\s*=\s*InnoDB\b"),
    (Engine::Sqlite, r"(?im)^\s*PRAGMA\s+\w+|\bWITHOUT\s+ROWID\b"),
];

struct Compiled {
    lang: Option<Lang>,
    engine: Engine,
    re: Regex,
}

static COMPILED: LazyLock<Vec<Compiled>> = LazyLock::new(|| {
    MARKERS
        .iter()
        .map(|m| Compiled {
            lang: m.lang,
            engine: m.engine,
            re: Regex::new(&format!("(?m){}", m.pattern)).expect("driver marker compiles"),
        })
        .collect()
});

static SQL_COMPILED: LazyLock<Vec<(Engine, Regex)>> = LazyLock::new(|| {
    SQL_MARKERS
        .iter()
        .map(|(e, p)| (*e, Regex::new(p).expect("SQL marker compiles")))
        .collect()
});

/// The engines a source file of language `lang` names through its drivers and URLs.
pub fn engines_named(lang: Lang, text: &str) -> EngineSet {
    let mut set = EngineSet::default();
    // Kotlin shares Java's markers, TypeScript JavaScript's.
    let family = match lang {
        Lang::Kotlin => Lang::Java,
        Lang::TypeScript | Lang::Tsx => Lang::JavaScript,
        l => l,
    };
    for m in COMPILED.iter() {
        if (m.lang.is_none() || m.lang == Some(family))
            && !set.contains(m.engine)
            && m.re.is_match(text)
        {
            set.insert(m.engine);
        }
    }
    set
}

/// The engines an SQL file names through dialect-only syntax.
pub fn engines_named_sql(text: &str) -> EngineSet {
    let mut set = EngineSet::default();
    for (e, re) in SQL_COMPILED.iter() {
        if re.is_match(text) {
            set.insert(*e);
        }
    }
    set
}

/// Sets [`Transaction::engine`] of every transaction (see the module docs for the order).
///
/// `named` holds the engines each file (by display name) names; files absent from it name none.
/// `source` says whether a file is application code (project-wide detection applies to it).
/// `configured` gives the engine configured for a file, if any; `default` the configured
/// default.
pub fn assign_engines(
    transactions: &mut [Transaction],
    named: &BTreeMap<String, EngineSet>,
    source: impl Fn(&str) -> bool,
    configured: impl Fn(&str) -> Option<Engine>,
    default: Option<Engine>,
) {
    let project = named
        .iter()
        .filter(|(name, _)| source(name))
        .fold(EngineSet::default(), |acc, (_, s)| acc.union(*s))
        .single();
    let of = |path: &str| named.get(path).copied().unwrap_or_default();
    for t in transactions {
        let root = &*t.location.path;
        t.engine = configured(root)
            .or_else(|| {
                let mut set = of(root);
                for s in &t.statements {
                    if *s.location.path != *root {
                        set = set.union(of(&s.location.path));
                    }
                }
                // The file it starts in decides when its callees' files disagree.
                set.single().or_else(|| of(root).single())
            })
            .or(default)
            .or_else(|| if source(root) { project } else { None })
            .unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(lang: Lang, text: &str) -> Option<Engine> {
        engines_named(lang, text).single()
    }

    #[test]
    fn drivers_of_every_language() {
        use Engine::*;
        let cases: &[(Lang, &str, Option<Engine>)] = &[
            (Lang::Python, "import aiosqlite\n", Some(Sqlite)),
            (Lang::Python, "from sqlite3 import connect\n", Some(Sqlite)),
            (Lang::Python, "import pymysql.cursors\n", Some(Mysql)),
            (Lang::Python, "import psycopg\n", Some(Postgres)),
            (
                Lang::Python,
                "engine = create_async_engine(\"sqlite+aiosqlite:///app.db\")\n",
                Some(Sqlite),
            ),
            (
                Lang::Python,
                "URL = 'mysql+pymysql://app@db/shop'\n",
                Some(Mysql),
            ),
            (
                Lang::Python,
                "# we used sqlite3 once\nimport psycopg2\n",
                Some(Postgres),
            ),
            (
                Lang::Go,
                "import _ \"github.com/go-sql-driver/mysql\"\n",
                Some(Mysql),
            ),
            (
                Lang::Go,
                "db, _ := sql.Open(\"sqlite3\", path)\n",
                Some(Sqlite),
            ),
            (
                Lang::Go,
                "import \"github.com/jackc/pgx/v5/pgxpool\"\n",
                Some(Postgres),
            ),
            (
                Lang::Java,
                "var c = DriverManager.getConnection(\"jdbc:mysql://db/shop\");\n",
                Some(Mysql),
            ),
            (
                Lang::Kotlin,
                "import org.postgresql.Driver\n",
                Some(Postgres),
            ),
            (
                Lang::JavaScript,
                "const { Pool } = require('pg');\n",
                Some(Postgres),
            ),
            (
                Lang::TypeScript,
                "import mysql from 'mysql2/promise';\n",
                Some(Mysql),
            ),
            (
                Lang::JavaScript,
                "import Database from \"better-sqlite3\";\n",
                Some(Sqlite),
            ),
            (Lang::Ruby, "require \"mysql2\"\n", Some(Mysql)),
            (
                Lang::Ruby,
                "ActiveRecord::Base.establish_connection(adapter: \"sqlite3\")\n",
                Some(Sqlite),
            ),
            (Lang::Rust, "use rusqlite::Connection;\n", Some(Sqlite)),
            (Lang::Rust, "use tokio_postgres::NoTls;\n", Some(Postgres)),
            (
                Lang::Rust,
                "let pool = sqlx::MySqlPool::connect(url).await?;\n",
                Some(Mysql),
            ),
            (Lang::Python, "def f():\n    return 1\n", None),
        ];
        for (lang, text, want) in cases {
            assert_eq!(one(*lang, text), *want, "{lang:?}: {text}");
        }
        // Two engines named: no single answer.
        let both = engines_named(Lang::Python, "import sqlite3\nimport psycopg\n");
        assert!(both.contains(Engine::Sqlite) && both.contains(Engine::Postgres));
        assert_eq!(both.single(), None);
    }

    #[test]
    fn sql_dialect_markers() {
        assert_eq!(
            engines_named_sql("CREATE TABLE t (id int) ENGINE=InnoDB;").single(),
            Some(Engine::Mysql)
        );
        assert_eq!(
            engines_named_sql("PRAGMA journal_mode = wal;\nCREATE TABLE t (id int);").single(),
            Some(Engine::Sqlite)
        );
        assert!(engines_named_sql("CREATE TABLE t (id int PRIMARY KEY);").is_empty());
    }

    fn txn(path: &str, statement_paths: &[&str]) -> Transaction {
        let statements = statement_paths
            .iter()
            .map(|p| std::sync::Arc::new(lockgraph_sql_free_statement(p)))
            .collect();
        Transaction {
            name: path.into(),
            location: lockgraph_core::Location::new(path, 1),
            kind: lockgraph_core::TransactionKind::Explicit,
            group: None,
            statements,
            locks: Vec::new(),
            engine: Engine::Postgres,
        }
    }

    fn lockgraph_sql_free_statement(path: &str) -> lockgraph_core::Statement {
        lockgraph_core::Statement {
            location: lockgraph_core::Location::new(path, 2),
            text: "SELECT 1".into(),
            redacted: "SELECT ?".into(),
            fingerprint: lockgraph_core::Fingerprint(1),
        }
    }

    #[test]
    fn assignment_order() {
        let mut named = BTreeMap::new();
        let sqlite = engines_named(Lang::Python, "import aiosqlite\n");
        let mysql = engines_named(Lang::Python, "import pymysql\n");
        named.insert("cache.py".to_string(), sqlite);
        named.insert("orders.py".to_string(), mysql);
        let source = |p: &str| p.ends_with(".py");
        let mut ts = vec![
            txn("cache.py", &["cache.py"]),
            // Starts in a file naming no engine, runs statements of a MySQL file.
            txn("service.py", &["orders.py"]),
            // Its files disagree: the file it starts in decides.
            txn("orders.py", &["cache.py"]),
            // Names nothing; the project names two engines: the default decides.
            txn("jobs.py", &["jobs.py"]),
            txn("schema.sql", &["schema.sql"]),
            txn("legacy/report.py", &["legacy/report.py"]),
        ];
        let configured = |p: &str| p.starts_with("legacy/").then_some(Engine::Sqlite);
        assign_engines(&mut ts, &named, source, configured, None);
        let got: Vec<Engine> = ts.iter().map(|t| t.engine).collect();
        assert_eq!(
            got,
            [
                Engine::Sqlite,
                Engine::Mysql,
                Engine::Mysql,
                Engine::Postgres,
                Engine::Postgres,
                Engine::Sqlite
            ]
        );
        // One engine in the whole project: source files naming nothing follow it, SQL files
        // do not.
        named.remove("orders.py");
        assign_engines(&mut ts, &named, source, |_| None, None);
        assert_eq!(ts[3].engine, Engine::Sqlite);
        assert_eq!(ts[4].engine, Engine::Postgres);
        // A configured default comes before the project's.
        assign_engines(&mut ts, &named, source, |_| None, Some(Engine::Mysql));
        assert_eq!(ts[3].engine, Engine::Mysql);
        assert_eq!(ts[4].engine, Engine::Mysql);
    }
}
