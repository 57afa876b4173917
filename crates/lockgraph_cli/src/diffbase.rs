//! `--diff-base REV`: which lines changed since a git revision, so that a run reports only the
//! findings that involve them.
//!
//! [`changed_lines`] runs `git diff --unified=0 REV` (the working tree, staged or not, against
//! `REV`) in the repository that contains the checked paths and adds the untracked files that are
//! not ignored (new files, every line changed). [`parse_diff`] turns the diff into changed line
//! ranges per file: the added side of each hunk; a hunk that only deletes lines marks the lines on
//! either side of the deletion (removing a statement can create a hazard there). Renames are
//! followed (`-M`): a file that only moved has no changed lines.
//!
//! A finding is kept when any of its labels points at a changed line ([`ChangedLines::involves`]),
//! so a lock-order cycle whose other half is old code is still reported when the new half is in
//! the change. Files outside the repository never count as changed.

use lockgraph_core::Finding;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why the changed lines could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum DiffBaseError {
    /// `git` could not be started.
    #[error("--diff-base needs git, which could not be run: {0}")]
    NoGit(std::io::Error),
    /// The checked paths are not in a git repository.
    #[error("--diff-base: {0} is not inside a git repository")]
    NotARepository(String),
    /// The revision does not name a commit.
    #[error("--diff-base: `{rev}` is not a commit in {repo}: {message}")]
    BadRevision {
        /// The revision as given.
        rev: String,
        /// The repository.
        repo: String,
        /// What git said.
        message: String,
    },
    /// Another git failure.
    #[error("--diff-base: `git {command}` failed: {message}")]
    Git {
        /// The git subcommand.
        command: String,
        /// What git said.
        message: String,
    },
}

/// How a file changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    /// New since the revision: every line counts as changed.
    Whole,
    /// These 1-based inclusive line ranges changed.
    Lines(Vec<(u32, u32)>),
}

impl FileChange {
    fn contains(&self, line: u32) -> bool {
        match self {
            FileChange::Whole => true,
            FileChange::Lines(ranges) => ranges.iter().any(|&(a, b)| a <= line && line <= b),
        }
    }
}

/// The lines changed since a revision, per file of one repository.
#[derive(Debug, Clone)]
pub struct ChangedLines {
    /// The repository's top directory (canonical).
    pub root: PathBuf,
    /// Changes by path relative to `root`, `/`-separated.
    pub files: BTreeMap<String, FileChange>,
    /// The working directory that relative finding paths are resolved against.
    cwd: PathBuf,
}

impl ChangedLines {
    /// Whether `line` of the file at `path` (as reports name it: relative to the working
    /// directory, or absolute) changed.
    pub fn contains(&self, path: &str, line: u32) -> bool {
        let abs = self.cwd.join(path);
        let abs = std::fs::canonicalize(&abs).unwrap_or(abs);
        let Ok(rel) = abs.strip_prefix(&self.root) else {
            return false;
        };
        let rel = rel
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/");
        self.files.get(&rel).is_some_and(|c| c.contains(line))
    }

    /// Whether any label of the finding points at a changed line. A finding with no labels (none
    /// of `check`'s have none) is kept.
    pub fn involves(&self, finding: &Finding) -> bool {
        finding.labels.is_empty()
            || finding
                .labels
                .iter()
                .any(|l| self.contains(&l.location.path, l.location.line))
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, DiffBaseError> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "core.quotePath=false"])
        .args(args)
        .output()
        .map_err(DiffBaseError::NoGit)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_string()
}

/// The lines changed since `rev` in the repository that contains `dir`; finding paths are later
/// resolved against `cwd`.
pub fn changed_lines(rev: &str, dir: &Path, cwd: &Path) -> Result<ChangedLines, DiffBaseError> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if !top.status.success() {
        return Err(DiffBaseError::NotARepository(dir.display().to_string()));
    }
    let root = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim_end_matches(['\n', '\r']));
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    let verify = git(
        &root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ],
    )?;
    if !verify.status.success() {
        let message = match stderr(&verify) {
            s if s.is_empty() => "unknown revision".to_string(),
            s => s,
        };
        return Err(DiffBaseError::BadRevision {
            rev: rev.to_string(),
            repo: root.display().to_string(),
            message,
        });
    }
    let commit = String::from_utf8_lossy(&verify.stdout).trim().to_string();
    let diff = git(
        &root,
        &[
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--unified=0",
            "-M",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            &commit,
            "--",
        ],
    )?;
    if !diff.status.success() {
        return Err(DiffBaseError::Git {
            command: format!("diff {rev}"),
            message: stderr(&diff),
        });
    }
    let mut files = parse_diff(&String::from_utf8_lossy(&diff.stdout));
    let untracked = git(&root, &["ls-files", "--others", "--exclude-standard", "-z"])?;
    if !untracked.status.success() {
        return Err(DiffBaseError::Git {
            command: "ls-files --others".into(),
            message: stderr(&untracked),
        });
    }
    for name in String::from_utf8_lossy(&untracked.stdout).split('\0') {
        if !name.is_empty() {
            files.insert(name.to_string(), FileChange::Whole);
        }
    }
    Ok(ChangedLines {
        root,
        files,
        cwd: std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf()),
    })
}

/// Changed line ranges per file (new side, relative to the repository root) of a
/// `git diff --unified=0` with `a/` and `b/` prefixes. Deleted files are left out; new files
/// are [`FileChange::Whole`].
pub fn parse_diff(diff: &str) -> BTreeMap<String, FileChange> {
    let mut files: BTreeMap<String, FileChange> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut new_file = false;
    for line in diff.lines() {
        if line.starts_with("diff --git ") {
            current = None;
            new_file = false;
        } else if line.starts_with("new file mode") {
            new_file = true;
        } else if let Some(rest) = line.strip_prefix("+++ ") {
            current = unquote(rest).strip_prefix("b/").map(str::to_string);
            if let Some(path) = &current {
                let change = if new_file {
                    FileChange::Whole
                } else {
                    FileChange::Lines(Vec::new())
                };
                files.insert(path.clone(), change);
            }
        } else if let Some(hunk) = line.strip_prefix("@@ ")
            && let Some(path) = &current
            && let Some(range) = hunk_range(hunk)
            && let Some(FileChange::Lines(ranges)) = files.get_mut(path)
        {
            ranges.push(range);
        }
    }
    files
}

/// The changed lines of a hunk header's new side (`-12,3 +14,2 @@ …` → 14..=15). A pure
/// deletion (`+14,0`) marks lines 14 and 15, the lines around the removed ones.
fn hunk_range(header: &str) -> Option<(u32, u32)> {
    let new = header.split_whitespace().find(|w| w.starts_with('+'))?;
    let mut parts = new[1..].splitn(2, ',');
    let start: u32 = parts.next()?.parse().ok()?;
    let count: u32 = match parts.next() {
        Some(c) => c.parse().ok()?,
        None => 1,
    };
    Some(if count == 0 {
        (start.max(1), start + 1)
    } else {
        (start, start + count - 1)
    })
}

/// A path as git prints it: plain, or in C-style quotes when it has special characters.
fn unquote(s: &str) -> String {
    let s = s.trim_end_matches('\t');
    let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return s.to_string();
    };
    let mut bytes = Vec::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => bytes.push(b'\n'),
            Some('t') => bytes.push(b'\t'),
            Some('"') => bytes.push(b'"'),
            Some('\\') => bytes.push(b'\\'),
            Some(d @ '0'..='7') => {
                let mut v = d.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    if let Some(&n @ '0'..='7') = chars.peek() {
                        v = v * 8 + n.to_digit(8).unwrap_or(0);
                        chars.next();
                    }
                }
                bytes.push(v as u8);
            }
            Some(other) => {
                let mut buf = [0; 4];
                bytes.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            }
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "\
diff --git a/db/a.sql b/db/a.sql
index 1111111..2222222 100644
--- a/db/a.sql
+++ b/db/a.sql
@@ -3,0 +4,2 @@ BEGIN;
+UPDATE x SET n = 1;
+UPDATE y SET n = 1;
@@ -10 +12 @@ COMMIT;
-old
+new
@@ -20,3 +21,0 @@
-gone
-gone
-gone
diff --git a/db/new.sql b/db/new.sql
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/db/new.sql
@@ -0,0 +1,3 @@
+a
+b
+c
diff --git a/db/old.sql b/db/old.sql
deleted file mode 100644
--- a/db/old.sql
+++ /dev/null
@@ -1 +0,0 @@
-x
diff --git \"a/db/sp ace\\tq.sql\" \"b/db/sp ace\\tq.sql\"
--- \"a/db/sp ace\\tq.sql\"
+++ \"b/db/sp ace\\tq.sql\"
@@ -1 +1 @@
-x
+y
";

    #[test]
    fn hunks_become_line_ranges() {
        let files = parse_diff(DIFF);
        assert_eq!(
            files["db/a.sql"],
            FileChange::Lines(vec![(4, 5), (12, 12), (21, 22)])
        );
        assert_eq!(files["db/new.sql"], FileChange::Whole);
        assert!(!files.contains_key("db/old.sql"));
        assert_eq!(files["db/sp ace\tq.sql"], FileChange::Lines(vec![(1, 1)]));
        assert!(files["db/a.sql"].contains(5) && !files["db/a.sql"].contains(6));
    }

    #[test]
    fn hunk_headers() {
        assert_eq!(hunk_range("-1,2 +1,3 @@"), Some((1, 3)));
        assert_eq!(hunk_range("-5 +0,0 @@"), Some((1, 1)));
        assert_eq!(hunk_range("garbage"), None);
    }
}
