//! The registry's invariants: four spellings of each rule in sync, codes unique, docs complete,
//! docs/rules.md generated from the registry.

use lockgraph_rules::{REGISTRY, rules_markdown};

fn camel(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn four_spellings_agree() {
    for rule in REGISTRY {
        let i = rule.info();
        assert!(
            i.code.len() == 5
                && i.code.starts_with("LG")
                && i.code[2..].chars().all(|c| c.is_ascii_digit()),
            "bad code {}",
            i.code
        );
        assert_eq!(camel(i.name), i.type_name, "{}: type name", i.code);
        let file = i.name.replace('-', "_") + ".rs";
        assert!(
            i.file.ends_with(&format!("rules/{file}")),
            "{}: declared in {}, expected rules/{file}",
            i.code,
            i.file
        );
    }
}

#[test]
fn codes_and_names_are_unique_and_sorted() {
    let codes: Vec<_> = REGISTRY.iter().map(|r| r.info().code).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(codes, sorted, "registry must list unique codes in order");
    let mut names: Vec<_> = REGISTRY.iter().map(|r| r.info().name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), REGISTRY.len());
}

#[test]
fn every_rule_documents_the_four_sections() {
    for rule in REGISTRY {
        let doc = rule.info().doc;
        for heading in [
            "## What it detects",
            "## Why it matters",
            "## Example",
            "## How to fix",
        ] {
            assert!(
                doc.contains(heading),
                "{} lacks `{heading}`",
                rule.info().code
            );
        }
    }
}

#[test]
fn docs_rules_md_is_generated_from_the_registry() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rules.md");
    let expected = rules_markdown();
    if std::env::var_os("LOCKGRAPH_UPDATE_DOCS").is_some() {
        std::fs::write(path, &expected).expect("write docs/rules.md");
        return;
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/rules.md is stale: run `LOCKGRAPH_UPDATE_DOCS=1 cargo test -p lockgraph_rules --test registry`"
    );
}
