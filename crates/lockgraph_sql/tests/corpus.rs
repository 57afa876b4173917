//! Parser corpora: every statement of `tests/data/ok/*.sql` infers without a problem, every
//! statement of `tests/data/err/*.sql` yields one (and none of them panics).

use lockgraph_sql::{infer_statement, parse_schema, split_statements};
use std::path::Path;

fn files(dir: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dir);
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn ok_corpus_infers_without_problems() {
    let ok = files("ok");
    let sources: Vec<(&str, &str)> = ok.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let (schema, _) = parse_schema(&sources);
    let mut n = 0;
    let mut failures = Vec::new();
    for (path, text) in &ok {
        for st in split_statements(text) {
            n += 1;
            if let Some(p) = infer_statement(&st.text, &schema).problem {
                failures.push(format!(
                    "{path}:{}: {:?}: {}\n    {}",
                    st.line, p.0, p.1, st.text
                ));
            }
        }
    }
    assert!(n > 120, "only {n} statements");
    assert!(
        failures.is_empty(),
        "{} of {n} ok statements have problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn err_corpus_yields_problems() {
    let mut n = 0;
    let mut failures = Vec::new();
    for (path, text) in files("err") {
        for st in split_statements(&text) {
            n += 1;
            let inf = infer_statement(&st.text, &Default::default());
            if inf.problem.is_none() {
                failures.push(format!(
                    "{path}:{}: no problem for\n    {}",
                    st.line, st.text
                ));
            }
        }
    }
    assert!(n >= 15, "only {n} statements");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
