//! Throughput of the Python front-end on generated service code (≥ 500k lines). Parsing runs on
//! every core (rayon); linking and replay on one.
//!
//! `cargo bench -p lockgraph_source --bench scan` — divan reports lines/s (items/s).

use divan::counter::ItemsCount;
use lockgraph_core::Schema;
use lockgraph_source::{SourceFile, SourceOptions, extract, parse_files};

#[allow(dead_code)]
#[path = "../examples/gen_python.rs"]
mod gen_python;

fn main() {
    divan::main();
}

fn corpus(lines: usize) -> (Vec<SourceFile>, usize) {
    let files: Vec<SourceFile> = gen_python::generate(lines)
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
