//! Which files to read: explicit files as given, directories walked for SQL (`*.sql`) and
//! application source files (`*.py`, `*.go`, `*.java`, `*.kt`, `*.js`/`*.ts`…, `*.rb`, `*.rs`) (honouring .gitignore and skipping hidden entries), narrowed by
//! `--include`/`--exclude` globs, in a stable sorted order.

use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};

/// Which front-end reads a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// SQL: migrations, schema dumps, queries.
    Sql,
    /// Application code in one of the languages the source front-end reads.
    Source,
}

impl FileKind {
    /// The kind of a path, by extension; `None` for files no front-end reads.
    pub fn of(path: &Path) -> Option<FileKind> {
        if lockgraph_source::is_source(path) {
            return Some(FileKind::Source);
        }
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("sql"))
            .then_some(FileKind::Sql)
    }
}

/// A file to analyse, with the name reports use for it.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Path on disk.
    pub path: PathBuf,
    /// Display name: the path as reached from the argument, `/` separated.
    pub name: String,
    /// Which front-end reads it.
    pub kind: FileKind,
}

/// Problems met while walking (reported, the walk goes on).
pub type WalkError = String;

/// `--include`/`--exclude` globs. A glob matches a file when it matches its display name or any
/// trailing part of it that starts at a `/` (so `tests/**` and `*_test.py` match at any depth).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl Filter {
    /// Compiles the globs; an invalid glob is an error naming it.
    pub fn new(include: &[String], exclude: &[String]) -> Result<Filter, String> {
        let set = |globs: &[String]| -> Result<Option<GlobSet>, String> {
            if globs.is_empty() {
                return Ok(None);
            }
            let mut b = GlobSetBuilder::new();
            for g in globs {
                b.add(Glob::new(g).map_err(|e| format!("invalid glob '{g}': {e}"))?);
            }
            b.build().map(Some).map_err(|e| e.to_string())
        };
        Ok(Filter {
            include: set(include)?,
            exclude: set(exclude)?,
        })
    }

    /// Whether a walked file with this display name is read.
    pub fn accepts(&self, name: &str) -> bool {
        let matches = |set: &GlobSet| {
            set.is_match(name)
                || name
                    .match_indices('/')
                    .any(|(i, _)| set.is_match(&name[i + 1..]))
        };
        self.include.as_ref().is_none_or(matches) && !self.exclude.as_ref().is_some_and(matches)
    }
}

/// Expands the command-line paths into input files, sorted by name, deduplicated. Files named
/// on the command line are read whatever their extension (as SQL unless they are source code) and
/// whatever the filter says; files found by walking must have a known kind and pass `filter`.
pub fn discover(paths: &[PathBuf], filter: &Filter) -> (Vec<InputFile>, Vec<WalkError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        if root.is_file() {
            files.push(input(root, FileKind::of(root).unwrap_or(FileKind::Sql)));
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
                Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                    if let Some(kind) = FileKind::of(e.path()) {
                        let file = input(e.path(), kind);
                        if filter.accepts(&file.name) {
                            files.push(file);
                        }
                    }
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

fn input(path: &Path, kind: FileKind) -> InputFile {
    let name = path
        .to_string_lossy()
        .trim_start_matches("./")
        .replace(std::path::MAIN_SEPARATOR, "/");
    InputFile {
        path: path.to_path_buf(),
        name,
        kind,
    }
}

/// Whether `name` lies under a directory called `migrations`.
pub fn in_migrations_dir(name: &str) -> bool {
    name.split('/')
        .rev()
        .skip(1)
        .any(|c| c.eq_ignore_ascii_case("migrations"))
}
