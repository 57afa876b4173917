//! Throughput of the source front-end on generated service code: Python at 500k lines, and
//! every language (`examples/gen_<lang>.rs`) at 200k lines. Parsing runs on every core (rayon);
//! linking and replay on one.
//!
//! `cargo bench -p lockgraph_source --bench scan` — divan reports lines/s (items/s);
//! `cargo bench -p lockgraph_source --bench scan -- extract_200k` for the per-language runs.
//! `scripts/bench-source.sh` times the whole `lockgraph check` per language.

// Each generator is also an example binary of its own, so each includes `examples/common`.
#![allow(clippy::duplicate_mod)]

use divan::counter::ItemsCount;
use lockgraph_core::Schema;
use lockgraph_source::{SourceFile, SourceOptions, extract, parse_files};

#[allow(dead_code)]
#[path = "../examples/gen_go.rs"]
mod gen_go;
#[allow(dead_code)]
#[path = "../examples/gen_java.rs"]
mod gen_java;
#[allow(dead_code)]
#[path = "../examples/gen_js.rs"]
mod gen_js;
#[allow(dead_code)]
#[path = "../examples/gen_python.rs"]
mod gen_python;
#[allow(dead_code)]
#[path = "../examples/gen_ruby.rs"]
mod gen_ruby;
#[allow(dead_code)]
#[path = "../examples/gen_rust.rs"]
mod gen_rust;

fn main() {
    divan::main();
}

fn corpus(lines: usize) -> (Vec<SourceFile>, usize) {
    corpus_of("python", lines)
}

/// A generated tree of `lang` (`python`, `go`, `java`, `js`, `ruby`, `rust`).
fn corpus_of(lang: &str, lines: usize) -> (Vec<SourceFile>, usize) {
    let generated = match lang {
        "python" => gen_python::generate(lines),
        "go" => gen_go::generate(lines),
        "java" => gen_java::generate(lines),
        "js" => gen_js::generate(lines),
        "ruby" => gen_ruby::generate(lines),
        "rust" => gen_rust::generate(lines),
        other => panic!("no generator for {other}"),
    };
    let files: Vec<SourceFile> = generated
        .into_iter()
        .map(|(name, text)| SourceFile { name, text })
        .collect();
    let n = files.iter().map(|f| f.text.lines().count()).sum();
    (files, n)
}

/// Parse + lower + link + replay.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn extract_500k_lines(bencher: divan::Bencher) {
    let (files, lines) = corpus(500_000);
    let schema = lockgraph_source::model_schema(&files);
    bencher
        .counter(ItemsCount::new(lines))
        .bench(|| extract(&files, &schema, &SourceOptions::default()));
}

/// Parse + lower + link + replay of 200k generated lines per language.
#[divan::bench(
    args = ["python", "go", "java", "js", "ruby", "rust"],
    sample_count = 3,
    sample_size = 1
)]
fn extract_200k_lines(bencher: divan::Bencher, lang: &str) {
    let (files, lines) = corpus_of(lang, 200_000);
    let schema = lockgraph_source::model_schema(&files);
    bencher
        .counter(ItemsCount::new(lines))
        .bench(|| extract(&files, &schema, &SourceOptions::default()));
}

/// The per-file step alone (parse + lower), which can run in parallel.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn parse_500k_lines(bencher: divan::Bencher) {
    let (files, lines) = corpus(500_000);
    bencher
        .counter(ItemsCount::new(lines))
        .bench(|| parse_files(&files));
}

/// Small input: the two-file seed case end to end.
#[divan::bench]
fn seed_case(bencher: divan::Bencher) {
    let files = vec![
        SourceFile {
            name: "repo.py".into(),
            text: "async def update_a(conn):\n    await conn.execute(\"UPDATE a SET v = v + 1 WHERE id = $1\", 1)\n".into(),
        },
        SourceFile {
            name: "service.py".into(),
            text: "import repo\nasync def f(pool):\n    async with pool.acquire() as conn:\n        async with conn.transaction():\n            await repo.update_a(conn)\n".into(),
        },
    ];
    bencher.bench(|| extract(&files, &Schema::default(), &SourceOptions::default()));
}
