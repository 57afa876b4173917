//! What a Python file says about its database connections, read with tree-sitter: the SQLite
//! connections it opens (driver, database, isolation,
//! busy timeout), `PRAGMA busy_timeout` strings, and the calls to things that are not the
//! database (network, sleep, queue, subprocess) with the functions and transaction scopes
//! around them.

use crate::lock::BeginMode;
use crate::model::{BusyTimeout, Connection, Driver, ExternalKind, Isolation};
use lockgraph_core::Location;
use std::sync::Arc;
use tree_sitter::{Node, Parser};

/// Lines `start..=end` (1-based) of a function or block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// First line.
    pub start: u32,
    /// Last line.
    pub end: u32,
}

impl Span {
    /// Whether `line` is inside.
    pub fn contains(&self, line: u32) -> bool {
        self.start <= line && line <= self.end
    }
}

/// A call to something that is not the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalCall {
    /// Its line.
    pub line: u32,
    /// What kind.
    pub kind: ExternalKind,
    /// The callee as written (`client.post`).
    pub call: Arc<str>,
    /// Awaited.
    pub awaited: bool,
}

/// The facts of one Python file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileFacts {
    /// SQLite connections opened here.
    pub connections: Vec<Connection>,
    /// `PRAGMA busy_timeout = N` strings: (line, milliseconds).
    pub pragma_timeouts: Vec<(u32, u64)>,
    /// Function definitions.
    pub functions: Vec<Span>,
    /// Calls that are not the database.
    pub externals: Vec<ExternalCall>,
    /// Lines of `….commit()` / `….rollback()` calls.
    pub ends: Vec<u32>,
    /// `with … .begin()` / `.transaction()` / `atomic()` blocks.
    pub scopes: Vec<Span>,
}

impl FileFacts {
    /// The innermost function around `line`.
    pub fn function_at(&self, line: u32) -> Option<Span> {
        self.functions
            .iter()
            .filter(|f| f.contains(line))
            .min_by_key(|f| f.end - f.start)
            .copied()
    }
}

/// Calls to things that are not the database: a callee equal to the name, or (names ending in
/// `.`) starting with it and going on with a lower-case function (`httpx.get`, not
/// `httpx.AsyncClient`).
const EXTERNAL_CALLEES: &[(&str, ExternalKind)] = &[
    ("asyncio.sleep", ExternalKind::Sleep),
    ("anyio.sleep", ExternalKind::Sleep),
    ("trio.sleep", ExternalKind::Sleep),
    ("time.sleep", ExternalKind::Sleep),
    ("httpx.", ExternalKind::Network),
    ("requests.", ExternalKind::Network),
    ("aiohttp.", ExternalKind::Network),
    ("urllib.request.urlopen", ExternalKind::Network),
    ("urlopen", ExternalKind::Network),
    ("asyncio.open_connection", ExternalKind::Network),
    ("asyncio.create_subprocess_exec", ExternalKind::Subprocess),
    ("asyncio.create_subprocess_shell", ExternalKind::Subprocess),
    ("subprocess.", ExternalKind::Subprocess),
];

/// Constructors whose result is an HTTP client: calls on a name bound to one are network calls.
const CLIENT_CONSTRUCTORS: &[&str] = &[
    "httpx.AsyncClient",
    "httpx.Client",
    "aiohttp.ClientSession",
    "requests.Session",
    "requests.session",
];

/// Methods that block on a queue.
const QUEUE_METHODS: &[&str] = &["get", "put", "join"];

/// Scans one Python file. Never panics; a file tree-sitter cannot read gives no facts.
pub fn scan_python(path: &str, text: &str) -> FileFacts {
    let mut facts = FileFacts::default();
    let mut parser = Parser::new();
    if parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .is_err()
    {
        return facts;
    }
    let Some(tree) = parser.parse(text, None) else {
        return facts;
    };
    let src = text.as_bytes();
    let path: Arc<str> = Arc::from(path);
    // Names bound to HTTP clients (`async with httpx.AsyncClient() as client`, `c = httpx.Client()`),
    // and the names `connect` was imported as from sqlite3/aiosqlite.
    let mut clients: Vec<String> = Vec::new();
    let mut connects: Vec<(String, Driver)> = Vec::new();
    let mut calls: Vec<Node> = Vec::new();

    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            stack.push(child);
        }
        let line = node.start_position().row as u32 + 1;
        match node.kind() {
            "import_statement" | "import_from_statement" => {
                let t = node_text(node, src);
                if node.kind() == "import_from_statement" {
                    let driver = if t.contains("aiosqlite") {
                        Some(Driver::Aiosqlite)
                    } else if t.contains("sqlite3") {
                        Some(Driver::Sqlite3)
                    } else {
                        None
                    };
                    if let Some(d) = driver
                        && t.contains("connect")
                    {
                        let alias = t
                            .split("connect as ")
                            .nth(1)
                            .map(|s| s.trim().trim_end_matches([',', ')']).to_string())
                            .unwrap_or_else(|| "connect".into());
                        connects.push((alias, d));
                    }
                }
            }
            "string" => {
                let s = string_value(node, src);
                let lower = s.trim().to_ascii_lowercase();
                if let Some(ms) = pragma_busy_timeout(&lower) {
                    facts.pragma_timeouts.push((line, ms));
                }
            }
            "function_definition" => facts.functions.push(span(node)),
            "with_statement" => {
                let header = node
                    .child_by_field_name("body")
                    .and_then(|b| text.get(node.start_byte()..b.start_byte()))
                    .unwrap_or("");
                if [".begin(", ".transaction(", "atomic("]
                    .iter()
                    .any(|h| header.contains(h))
                {
                    facts.scopes.push(span(node));
                }
                // `with httpx.AsyncClient() as client`
                for ctor in CLIENT_CONSTRUCTORS {
                    if let Some(rest) = header.split(&format!("{ctor}(")).nth(1)
                        && let Some(name) = rest.split(" as ").nth(1)
                    {
                        let name: String = name
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        if !name.is_empty() {
                            clients.push(name);
                        }
                    }
                }
            }
            "assignment" => {
                if let (Some(l), Some(r)) = (
                    node.child_by_field_name("left"),
                    node.child_by_field_name("right"),
                ) && r.kind() == "call"
                {
                    let callee = r
                        .child_by_field_name("function")
                        .map(|f| node_text(f, src))
                        .unwrap_or_default();
                    if CLIENT_CONSTRUCTORS.contains(&callee.as_str()) {
                        clients.push(node_text(l, src).trim_start_matches("self.").to_string());
                    }
                }
            }
            "call" => calls.push(node),
            _ => {}
        }
    }

    for call in calls {
        let line = call.start_position().row as u32 + 1;
        let Some(func) = call.child_by_field_name("function") else {
            continue;
        };
        let callee: String = node_text(func, src)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let args = call.child_by_field_name("arguments");
        let no_args = args.is_none_or(|a| a.named_child_count() == 0);
        let awaited = call.parent().is_some_and(|p| p.kind() == "await");
        let location = Location::new(path.clone(), line);

        // Connections.
        let driver = if callee == "sqlite3.connect" || callee.ends_with(".sqlite3.connect") {
            Some(Driver::Sqlite3)
        } else if callee == "aiosqlite.connect" {
            Some(Driver::Aiosqlite)
        } else if let Some((_, d)) = connects.iter().find(|(n, _)| *n == callee) {
            Some(*d)
        } else if callee.ends_with("create_engine") || callee.ends_with("create_async_engine") {
            let url = args
                .and_then(|a| a.named_child(0))
                .filter(|n| n.kind() == "string")
                .map(|n| string_value(n, src).to_ascii_lowercase());
            url.filter(|u| u.starts_with("sqlite"))
                .map(|_| Driver::Sqlalchemy)
        } else {
            None
        };
        if let Some(driver) = driver {
            facts
                .connections
                .push(connection(driver, location, args, src));
            continue;
        }

        // Transaction ends.
        if no_args && (callee.ends_with(".commit") || callee.ends_with(".rollback")) {
            facts.ends.push(line);
            continue;
        }

        // Calls that are not the database.
        let mut kind = EXTERNAL_CALLEES.iter().find_map(|(name, kind)| {
            let hit = match name.strip_suffix('.') {
                Some(module) => callee
                    .strip_prefix(module)
                    .and_then(|r| r.strip_prefix('.'))
                    .is_some_and(|f| f.starts_with(|c: char| c.is_ascii_lowercase())),
                None => callee == *name,
            };
            hit.then_some(*kind)
        });
        if kind.is_none()
            && let Some((receiver, method)) = callee.rsplit_once('.')
        {
            let base = receiver.trim_start_matches("self.");
            let last = base.rsplit('.').next().unwrap_or(base).to_ascii_lowercase();
            if clients.iter().any(|c| c == base)
                || (method.starts_with(|c: char| c.is_ascii_lowercase())
                    && (last.contains("http") || last.ends_with("client")))
            {
                kind = Some(ExternalKind::Network);
            } else if last.contains("queue") && QUEUE_METHODS.contains(&method) {
                kind = Some(ExternalKind::Queue);
            }
        }
        if let Some(kind) = kind {
            // A blocking call counts too (`time.sleep`, `requests.post`): the lock is held as long.
            facts.externals.push(ExternalCall {
                line,
                kind,
                call: Arc::from(callee.as_str()),
                awaited,
            });
        }
    }
    facts.externals.sort_by_key(|e| e.line);
    facts.ends.sort_unstable();
    facts
}

fn span(node: Node) -> Span {
    Span {
        start: node.start_position().row as u32 + 1,
        end: node.end_position().row as u32 + 1,
    }
}

fn node_text(node: Node, src: &[u8]) -> String {
    node.utf8_text(src).unwrap_or("").to_string()
}

/// The value of a string literal without prefix and quotes (f-string holes kept as written).
fn string_value(node: Node, src: &[u8]) -> String {
    let mut cursor = node.walk();
    let parts: Vec<String> = node
        .children(&mut cursor)
        .filter(|c| c.kind() == "string_content")
        .map(|c| node_text(c, src))
        .collect();
    if parts.is_empty() {
        let t = node_text(node, src);
        t.trim_start_matches(|c: char| c.is_ascii_alphabetic())
            .trim_matches(['"', '\''])
            .to_string()
    } else {
        parts.concat()
    }
}

/// `pragma busy_timeout = 250` / `pragma busy_timeout(250)` (lower-cased text) → 250.
fn pragma_busy_timeout(lower: &str) -> Option<u64> {
    let rest = lower.split("pragma").nth(1)?.trim_start();
    let rest = rest.strip_prefix("busy_timeout")?;
    let digits: String = rest
        .trim_start_matches(|c: char| c.is_whitespace() || c == '=' || c == '(')
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Reads a connect / create_engine call's arguments.
fn connection(driver: Driver, location: Location, args: Option<Node>, src: &[u8]) -> Connection {
    let mut c = Connection {
        location,
        driver,
        database: None,
        isolation: Isolation::Legacy(BeginMode::Deferred),
        busy_timeout: BusyTimeout::Default,
        timeout_at: None,
    };
    let Some(args) = args else {
        return c;
    };
    let mut cursor = args.walk();
    let mut positional = 0;
    for arg in args.named_children(&mut cursor) {
        let line = Location::new(c.location.path.clone(), arg.start_position().row as u32 + 1);
        if arg.kind() != "keyword_argument" {
            if positional == 0 {
                c.database = Some(Arc::from(database_name(arg, src).as_str()));
            } else if positional == 1 && driver != Driver::Sqlalchemy {
                // sqlite3.connect(database, timeout, …)
                c.busy_timeout = seconds(arg, src);
                c.timeout_at = Some(line);
            }
            positional += 1;
            continue;
        }
        let (Some(name), Some(value)) = (
            arg.child_by_field_name("name"),
            arg.child_by_field_name("value"),
        ) else {
            continue;
        };
        match (node_text(name, src).as_str(), driver) {
            ("database", _) => c.database = Some(Arc::from(database_name(value, src).as_str())),
            ("timeout", Driver::Sqlite3 | Driver::Aiosqlite) => {
                c.busy_timeout = seconds(value, src);
                c.timeout_at = Some(line);
            }
            ("isolation_level", Driver::Sqlite3 | Driver::Aiosqlite) => {
                c.isolation = isolation(value, src, c.isolation.clone());
            }
            ("autocommit", Driver::Sqlite3 | Driver::Aiosqlite) => {
                if value.kind() == "false" {
                    c.isolation = Isolation::AlwaysOpen;
                } else if value.kind() == "true" {
                    c.isolation = Isolation::Autocommit;
                }
            }
            ("connect_args", Driver::Sqlalchemy) if value.kind() == "dictionary" => {
                let mut cur = value.walk();
                for pair in value.named_children(&mut cur) {
                    let (Some(k), Some(v)) = (
                        pair.child_by_field_name("key"),
                        pair.child_by_field_name("value"),
                    ) else {
                        continue;
                    };
                    let at = Location::new(
                        c.location.path.clone(),
                        pair.start_position().row as u32 + 1,
                    );
                    match string_value(k, src).as_str() {
                        "timeout" => {
                            c.busy_timeout = seconds(v, src);
                            c.timeout_at = Some(at);
                        }
                        "isolation_level" => {
                            c.isolation = isolation(v, src, c.isolation.clone());
                        }
                        "autocommit" if v.kind() == "false" => c.isolation = Isolation::AlwaysOpen,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    c
}

fn database_name(node: Node, src: &[u8]) -> String {
    if node.kind() == "string" {
        string_value(node, src)
    } else {
        node_text(node, src)
    }
}

/// A `timeout` in seconds (Python's unit) as milliseconds.
fn seconds(node: Node, src: &[u8]) -> BusyTimeout {
    let t = node_text(node, src).replace('_', "");
    match (node.kind(), t.parse::<f64>()) {
        ("integer" | "float", Ok(s)) if s >= 0.0 => {
            BusyTimeout::Millis((s * 1000.0).round() as u64)
        }
        _ => BusyTimeout::Unknown,
    }
}

fn isolation(node: Node, src: &[u8], current: Isolation) -> Isolation {
    if node.kind() == "none" {
        return Isolation::Autocommit;
    }
    if node.kind() != "string" {
        return current;
    }
    match string_value(node, src).trim().to_ascii_uppercase().as_str() {
        "" | "DEFERRED" => Isolation::Legacy(BeginMode::Deferred),
        "IMMEDIATE" => Isolation::Legacy(BeginMode::Immediate),
        "EXCLUSIVE" => Isolation::Legacy(BeginMode::Exclusive),
        _ => current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_connections_and_external_calls() {
        let f = scan_python(
            "app.py",
            "import asyncio\nimport aiosqlite\nimport httpx\n\n\
             async def go(q):\n    async with aiosqlite.connect(\"a.db\", timeout=0, isolation_level=None) as db:\n\
             \x20       await db.execute(\"UPDATE t SET n = 1\")\n\
             \x20       async with httpx.AsyncClient() as http:\n\
             \x20           await http.get(\"https://x\")\n\
             \x20       await asyncio.sleep(1)\n\
             \x20       await q.put(1)\n\
             \x20       await db.commit()\n",
        );
        let c = &f.connections[0];
        assert_eq!(c.database.as_deref(), Some("a.db"));
        assert_eq!(c.busy_timeout, BusyTimeout::Millis(0));
        assert_eq!(c.isolation, Isolation::Autocommit);
        let ext: Vec<(u32, &str)> = f.externals.iter().map(|e| (e.line, &*e.call)).collect();
        // `q.put` is not recognisably a queue (the name says nothing): not reported.
        assert_eq!(ext, [(9, "http.get"), (10, "asyncio.sleep")]);
        assert_eq!(f.ends, [12]);
        assert_eq!(f.function_at(9), Some(Span { start: 5, end: 12 }));
    }

    #[test]
    fn sqlalchemy_urls_and_pragmas() {
        let f = scan_python(
            "db.py",
            "from sqlalchemy.ext.asyncio import create_async_engine\n\
             engine = create_async_engine(\"sqlite+aiosqlite:///shop.db\", connect_args={\"timeout\": 0})\n\
             PRAGMA = \"PRAGMA busy_timeout = 250\"\n",
        );
        assert_eq!(f.connections[0].driver, Driver::Sqlalchemy);
        assert_eq!(f.connections[0].busy_timeout, BusyTimeout::Millis(0));
        assert_eq!(f.pragma_timeouts, [(3, 250)]);
        // Not Python at all: no facts, no panic.
        let _ = scan_python("x.py", "def (((\n\0\u{7f}");
    }
}
