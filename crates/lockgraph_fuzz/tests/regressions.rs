//! Every fuzz target's seeds and kept regression inputs (`regressions/<target>/`), run through
//! its checks in the normal test suite: an input that once crashed, hung or broke an invariant
//! stays fixed.

use lockgraph_fuzz::Target;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn regressions(t: Target) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("regressions")
        .join(t.name());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn every_target_has_seeds() {
    for t in Target::ALL {
        let seeds = t.seeds(&root());
        let usable = seeds
            .iter()
            .filter(|p| !t.seed_input(p, std::fs::read(p).unwrap()).is_empty())
            .count();
        assert!(usable >= 1, "{}: {usable} usable seeds", t.name());
    }
}

#[test]
fn seeds_pass_every_check() {
    for t in Target::ALL {
        for p in t.seeds(&root()) {
            let input = t.seed_input(&p, std::fs::read(&p).unwrap());
            t.run(&input);
            for piece in t.seed_pieces(&input) {
                t.run(&piece);
            }
        }
    }
}

#[test]
fn regression_inputs_pass_every_check() {
    for t in Target::ALL {
        for p in regressions(t) {
            eprintln!("{}: {}", t.name(), p.display());
            t.run(&std::fs::read(&p).unwrap());
        }
    }
}

#[test]
fn regression_directories_name_targets() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().into_string().unwrap();
        if name.ends_with(".md") {
            continue;
        }
        assert!(
            Target::from_name(&name).is_some(),
            "regressions/{name}: no such target"
        );
    }
}
