//! Properties of statement fingerprints (what groups statements into shapes in every report):
//! stable under whitespace, comments, keyword case and literal values; different for a
//! different relation or a different lock mode.

use lockgraph_sql::fingerprint;
use proptest::prelude::*;

/// A statement as tokens, with slots for literals (`None`).
#[derive(Clone, Debug)]
struct Shape {
    tokens: Vec<Option<String>>,
}

const TABLES: [&str; 4] = ["accounts", "ledger", "public.orders", "\"Order Items\""];
/// Row-locking clauses and table lock modes: each a different lock.
const ROW_LOCKS: [&str; 4] = [
    "FOR UPDATE",
    "FOR NO KEY UPDATE",
    "FOR SHARE",
    "FOR KEY SHARE",
];
const TABLE_MODES: [&str; 4] = ["SHARE", "ROW EXCLUSIVE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE"];

/// Words of `s`; `T` stands for the table, kept as one token (a quoted name has a space).
fn words(s: &str, table: &str) -> Vec<Option<String>> {
    s.split(' ')
        .map(|w| Some(if w == "T" { table } else { w }.to_string()))
        .collect()
}

/// Kind (0..4), table, lock variant: the three things a fingerprint must tell apart.
fn shape(kind: usize, table: usize, lock: usize) -> Shape {
    let t = TABLES[table];
    let lit = None;
    let mut tokens = Vec::new();
    match kind {
        0 => {
            tokens.extend(words("UPDATE T SET balance = balance -", t));
            tokens.push(lit.clone());
            tokens.extend(words("WHERE id =", t));
            tokens.push(lit);
        }
        1 => {
            tokens.extend(words("SELECT id FROM T WHERE id =", t));
            tokens.push(lit);
            tokens.extend(words(ROW_LOCKS[lock], t));
        }
        2 => {
            tokens.extend(words(
                &format!("LOCK TABLE T IN {} MODE", TABLE_MODES[lock]),
                t,
            ));
        }
        _ => {
            tokens.extend(words("DELETE FROM T WHERE id =", t));
            tokens.push(lit);
        }
    }
    Shape { tokens }
}

#[derive(Clone, Debug)]
enum Literal {
    Int(i64),
    Text(String),
    Float(f64),
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        any::<i64>().prop_map(Literal::Int),
        "[a-zA-Z0-9 @.'\\-]{0,12}".prop_map(Literal::Text),
        (-1e6f64..1e6).prop_map(Literal::Float),
    ]
}

/// Whitespace, optionally with a comment in it.
fn gap() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(" ".to_string()),
        "[ \t\n]{1,4}",
        "[a-z ]{0,10}".prop_map(|c| format!(" /* {c} */ ")),
        "[a-z ]{0,10}".prop_map(|c| format!(" -- {c}\n")),
    ]
}

/// Renders a shape with literal values, gaps between tokens, and keywords in lower case or not.
fn render(s: &Shape, lits: &[Literal], gaps: &[String], lower: bool) -> String {
    let mut out = String::new();
    let mut li = 0;
    for (i, tok) in s.tokens.iter().enumerate() {
        if i > 0 {
            out += &gaps[i % gaps.len()];
        }
        match tok {
            Some(w) if lower && !w.contains('"') => out += &w.to_lowercase(),
            Some(w) => out += w,
            None => {
                out += &match &lits[li % lits.len()] {
                    Literal::Int(n) => n.to_string(),
                    Literal::Text(t) => format!("'{}'", t.replace('\'', "''")),
                    Literal::Float(f) => format!("{f:?}"),
                };
                li += 1;
            }
        }
    }
    out
}

fn variant() -> impl Strategy<Value = (Vec<Literal>, Vec<String>, bool)> {
    (
        prop::collection::vec(literal(), 1..4),
        prop::collection::vec(gap(), 1..6),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// The same statement written two ways has one fingerprint.
    #[test]
    fn stable_under_whitespace_comments_case_and_literals(
        kind in 0..4usize, table in 0..4usize, lock in 0..4usize,
        a in variant(), b in variant(),
    ) {
        let s = shape(kind, table, lock);
        let x = render(&s, &a.0, &a.1, a.2);
        let y = render(&s, &b.0, &b.1, b.2);
        prop_assert_eq!(fingerprint(&x), fingerprint(&y), "{} vs {}", x, y);
    }

    /// A different relation, statement or lock mode gives a different fingerprint, however
    /// each is written.
    #[test]
    fn different_for_another_relation_or_mode(
        k1 in 0..4usize, t1 in 0..4usize, l1 in 0..4usize,
        k2 in 0..4usize, t2 in 0..4usize, l2 in 0..4usize,
        a in variant(), b in variant(),
    ) {
        // The lock variant only matters for the kinds that have one.
        let key = |k: usize, t: usize, l: usize| (k, t, if k == 1 || k == 2 { l } else { 0 });
        prop_assume!(key(k1, t1, l1) != key(k2, t2, l2));
        let x = render(&shape(k1, t1, l1), &a.0, &a.1, a.2);
        let y = render(&shape(k2, t2, l2), &b.0, &b.1, b.2);
        prop_assert_ne!(fingerprint(&x), fingerprint(&y), "{} vs {}", x, y);
    }
}
