//! Which files to read: explicit files as given, directories walked for `*.sql` (honouring
//! .gitignore and skipping hidden entries), in a stable sorted order.

use std::path::{Path, PathBuf};

/// A file to analyse, with the name reports use for it.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Path on disk.
    pub path: PathBuf,
    /// Display name: the path as reached from the argument, `/` separated.
    pub name: String,
}

/// Problems met while walking (reported, the walk goes on).
pub type WalkError = String;

/// Expands the command-line paths into input files, sorted by name, deduplicated.
pub fn discover(paths: &[PathBuf]) -> (Vec<InputFile>, Vec<WalkError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        if root.is_file() {
            files.push(input(root));
            continue;
        }
        if !root.exists() {
            errors.push(format!("{}: no such file or directory", root.display()));
            continue;
        }
        let walker = ignore::WalkBuilder::new(root)
            .sort_by_file_path(|a, b| a.cmp(b))
            .build();
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_some_and(|t| t.is_file()) && is_sql(e.path()) => {
                    files.push(input(e.path()))
                }
                Ok(_) => {}
                Err(err) => errors.push(err.to_string()),
            }
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files.dedup_by(|a, b| a.name == b.name);
    (files, errors)
}

fn is_sql(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("sql"))
}

fn input(path: &Path) -> InputFile {
    let name = path
        .to_string_lossy()
        .trim_start_matches("./")
        .replace(std::path::MAIN_SEPARATOR, "/");
    InputFile {
        path: path.to_path_buf(),
        name,
    }
}

/// Whether `name` lies under a directory called `migrations`.
pub fn in_migrations_dir(name: &str) -> bool {
    name.split('/')
        .rev()
        .skip(1)
        .any(|c| c.eq_ignore_ascii_case("migrations"))
}
