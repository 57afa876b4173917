//! Inline suppressions: `lockgraph: ignore[LG101, LG103] reason` in a comment of any front-end's
//! language (`#` in Python, `--` in SQL, `//` in C-like languages).

use crate::transaction::Location;
use serde::{Deserialize, Serialize};

/// One suppression comment.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Suppression {
    /// Where the comment is.
    pub comment: Location,
    /// The line it silences: its own line when it follows code, else the next line with code.
    pub target: Location,
    /// Rule codes or names it silences; empty means every rule.
    pub codes: Vec<String>,
    /// Why, as written after the bracket (reports show it).
    pub reason: Option<String>,
}

impl Suppression {
    /// Parses the text of one comment (without its `#`/`--`/`//` marker):
    /// `lockgraph: ignore[LG101, lock-upgrade] reason`, or `lockgraph: ignore reason` for every
    /// rule. Returns `(codes, reason)`, or `None` when the comment is not a suppression.
    ///
    /// ```
    /// use lockgraph_core::Suppression;
    /// let (codes, reason) = Suppression::parse_comment(" lockgraph: ignore[LG101, LG103] batch job, runs alone").unwrap();
    /// assert_eq!(codes, ["LG101", "LG103"]);
    /// assert_eq!(reason.as_deref(), Some("batch job, runs alone"));
    /// assert_eq!(Suppression::parse_comment("lockgraph:ignore").unwrap().0.len(), 0);
    /// assert!(Suppression::parse_comment(" TODO: lockgraph ignore this").is_none());
    /// ```
    pub fn parse_comment(comment: &str) -> Option<(Vec<String>, Option<String>)> {
        let rest = comment
            .trim_start()
            .strip_prefix("lockgraph:")?
            .trim_start();
        let rest = rest.strip_prefix("ignore")?;
        let (codes, rest) = match rest.strip_prefix('[') {
            Some(inner) => {
                let end = inner.find(']')?;
                let codes = inner[..end]
                    .split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect();
                (codes, &inner[end + 1..])
            }
            None if rest.is_empty() || rest.starts_with(char::is_whitespace) => (Vec::new(), rest),
            None => return None,
        };
        let reason = rest.trim();
        Some((codes, (!reason.is_empty()).then(|| reason.to_string())))
    }

    /// Finds the suppression comments of a file. `marker` starts a line comment (`#`, `--`);
    /// `is_comment_at(line, byte column)` says whether the marker there really starts a comment
    /// (not inside a string) — front-ends with a parser answer it, others pass `|_, _| true`.
    /// A comment alone on its line silences the next line that holds code.
    pub fn scan(
        path: &str,
        text: &str,
        marker: &str,
        is_comment_at: impl Fn(u32, usize) -> bool,
    ) -> Vec<Suppression> {
        let lines: Vec<&str> = text.lines().collect();
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let n = i as u32 + 1;
            if !line.contains("lockgraph:") {
                continue;
            }
            // The first marker that really starts a comment (an earlier one may be in a string).
            let Some(col) = line
                .match_indices(marker)
                .map(|(c, _)| c)
                .find(|&c| is_comment_at(n, c))
            else {
                continue;
            };
            let Some((codes, reason)) = Suppression::parse_comment(&line[col + marker.len()..])
            else {
                continue;
            };
            let own_line = !line[..col].trim().is_empty();
            let target = if own_line {
                n
            } else {
                // The next line with code (not blank, not only a comment).
                lines[i + 1..]
                    .iter()
                    .position(|l| {
                        let t = l.trim();
                        !t.is_empty() && !t.starts_with(marker)
                    })
                    .map(|k| n + 1 + k as u32)
                    .unwrap_or(n)
            };
            out.push(Suppression {
                comment: Location::new(path, n),
                target: Location::new(path, target),
                codes,
                reason,
            });
        }
        out
    }

    /// Whether it silences rule `code` (also matched by the rule's `name`).
    pub fn covers(&self, code: &str, name: &str) -> bool {
        self.codes.is_empty()
            || self
                .codes
                .iter()
                .any(|c| c.eq_ignore_ascii_case(code) || c.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_and_standalone_comments() {
        let text = "\
x = '#'  # lockgraph: ignore[LG101] reviewed
# lockgraph: ignore[LG102]

# another comment
cur.execute(sql)
s = '# lockgraph: ignore[LG103]'
";
        // Line 1's first `#` and all of line 6 are inside strings.
        let found = Suppression::scan("a.py", text, "#", |line, col| {
            line != 6 && (line, col) != (1, 5)
        });
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].target.line, 1);
        assert_eq!(found[0].reason.as_deref(), Some("reviewed"));
        assert_eq!((found[1].comment.line, found[1].target.line), (2, 5));
        assert!(found[1].covers("LG102", "lock-upgrade"));
        assert!(!found[1].covers("LG101", "lock-order-inversion"));
    }

    #[test]
    fn names_and_malformed() {
        let (codes, _) = Suppression::parse_comment("lockgraph: ignore[lock-upgrade]").unwrap();
        let s = Suppression {
            comment: Location::new("a.sql", 1),
            target: Location::new("a.sql", 1),
            codes,
            reason: None,
        };
        assert!(s.covers("LG102", "lock-upgrade"));
        assert!(Suppression::parse_comment("lockgraph: ignored").is_none());
        assert!(Suppression::parse_comment("lockgraph: ignore[LG101").is_none());
    }
}
