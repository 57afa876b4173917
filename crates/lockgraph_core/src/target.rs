//! What a lock is taken on: relations, rows of a relation, advisory keys.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A relation name as lockgraph compares them: unquoted identifiers folded to lower case, quoted
/// ones kept verbatim, the `public.` schema dropped (it is the default search path), other schemas
/// kept as `schema.name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RelationName(Arc<str>);

impl RelationName {
    /// Builds a name from already-normalized parts (see [`RelationName::from_parts`] for raw ones).
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        RelationName(name.into())
    }

    /// Builds a name from identifier parts as written (`"Public"`, `Accounts`, `"Mixed"`), folding
    /// unquoted parts to lower case and dropping a leading `public` schema.
    pub fn from_parts<'a>(parts: impl IntoIterator<Item = (&'a str, bool)>) -> Self {
        let mut folded: Vec<String> = parts
            .into_iter()
            .map(|(part, quoted)| {
                if quoted {
                    part.to_string()
                } else {
                    part.to_lowercase()
                }
            })
            .collect();
        // database.schema.table: the database part never matters within one connection.
        if folded.len() > 2 {
            folded.drain(..folded.len() - 2);
        }
        if folded.len() == 2 && folded[0] == "public" {
            folded.remove(0);
        }
        RelationName(folded.join(".").into())
    }

    /// Parses a dotted name as written in SQL (`public.Accounts`, `"Mixed".t`).
    pub fn parse(written: &str) -> Self {
        let mut parts = Vec::new();
        let mut rest = written.trim();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('"') {
                let end = after.find('"').unwrap_or(after.len());
                parts.push((after[..end].to_string(), true));
                rest = after.get(end + 1..).unwrap_or("");
            } else {
                let end = rest.find('.').unwrap_or(rest.len());
                parts.push((rest[..end].trim().to_string(), false));
                rest = &rest[end..];
            }
            rest = rest
                .trim_start()
                .strip_prefix('.')
                .unwrap_or(rest)
                .trim_start();
        }
        RelationName::from_parts(parts.iter().map(|(p, q)| (p.as_str(), *q)))
    }

    /// The normalized name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as SQL text, each dotted part quoted when it must be (`"Mixed"`, `billing.ledger`).
    pub fn to_sql(&self) -> String {
        self.0
            .split('.')
            .map(quote_ident)
            .collect::<Vec<_>>()
            .join(".")
    }
}

impl fmt::Display for RelationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether PostgreSQL reads `ident` unchanged without quotes: lower-case letters, digits and `_`,
/// not starting with a digit. (Reserved words are not checked.)
pub fn is_plain_ident(ident: &str) -> bool {
    ident
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && ident
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// An identifier as SQL text: unchanged when plain, else in double quotes with quotes doubled.
pub fn quote_ident(ident: &str) -> String {
    if is_plain_ident(ident) {
        ident.to_string()
    } else {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }
}

/// One lock target as a transaction sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LockTarget {
    /// The relation itself (a table-level lock).
    Relation {
        /// The relation.
        relation: RelationName,
    },
    /// Rows of a relation (a row-level lock), optionally narrowed by a key predicate.
    Rows {
        /// The relation the rows belong to.
        relation: RelationName,
        /// The key predicate, normalized (`id = $1`, `id = 1`), when the statement pins one.
        key: Option<KeyPredicate>,
    },
    /// An advisory lock key (`pg_advisory_xact_lock(42)` → `42`, two-key form → `1,2`).
    Advisory {
        /// The key as written (redacted when it is a literal).
        key: Arc<str>,
    },
}

impl LockTarget {
    /// The lock-order graph node this target belongs to: rows group with their relation.
    pub fn node(&self) -> NodeKey {
        match self {
            LockTarget::Relation { relation } | LockTarget::Rows { relation, .. } => {
                NodeKey::Relation(relation.clone())
            }
            LockTarget::Advisory { key } => NodeKey::Advisory(key.clone()),
        }
    }

    /// Whether two targets may be the very same lockable thing: the same relation, the same rows
    /// (equal key predicates, or either unknown), or the same advisory key.
    pub fn may_be_same(&self, other: &LockTarget) -> bool {
        match (self, other) {
            (LockTarget::Relation { relation: x }, LockTarget::Relation { relation: y }) => x == y,
            (
                LockTarget::Rows {
                    relation: x,
                    key: kx,
                },
                LockTarget::Rows {
                    relation: y,
                    key: ky,
                },
            ) => {
                x == y
                    && match (kx, ky) {
                        (Some(kx), Some(ky)) => kx.columns == ky.columns && kx.values == ky.values,
                        _ => true,
                    }
            }
            (LockTarget::Advisory { key: x }, LockTarget::Advisory { key: y }) => x == y,
            _ => false,
        }
    }

    /// The relation, for relation and row targets.
    pub fn relation(&self) -> Option<&RelationName> {
        match self {
            LockTarget::Relation { relation } | LockTarget::Rows { relation, .. } => Some(relation),
            LockTarget::Advisory { .. } => None,
        }
    }

    /// The key predicate of a row target.
    pub fn key(&self) -> Option<&KeyPredicate> {
        match self {
            LockTarget::Rows { key, .. } => key.as_ref(),
            _ => None,
        }
    }
}

impl fmt::Display for LockTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockTarget::Relation { relation } => write!(f, "{relation}"),
            LockTarget::Rows {
                relation,
                key: Some(k),
            } => write!(f, "{relation} rows ({k})"),
            LockTarget::Rows {
                relation,
                key: None,
            } => write!(f, "{relation} rows"),
            LockTarget::Advisory { key } => write!(f, "advisory lock {key}"),
        }
    }
}

/// Which rows a row lock covers, as far as the statement text says.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KeyPredicate {
    /// Key columns, in the order written (`["id"]`).
    pub columns: Vec<Arc<str>>,
    /// The value expression for each column as written (`1`, `$1`, `'x'`), unredacted.
    pub values: Vec<Arc<str>>,
    /// Whether the predicate pins exactly one row of a unique key (equality on all its columns).
    /// `false` for `IN (…)`, `= ANY(…)`, ranges or non-unique columns: a set of rows.
    pub single_row: bool,
    /// Whether the statement visits the rows in a fixed key order (`ORDER BY` on the key), so two
    /// instances lock a shared set of rows in the same order.
    pub ordered: bool,
    /// Other equality conditions on the same rows (`status = 'placed'`), column and value as
    /// written: not part of the row's identity, but a reproduction's seed rows must satisfy them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<(Arc<str>, Arc<str>)>,
}

impl KeyPredicate {
    /// Whether every value is a literal (a constant row), as opposed to a parameter or expression.
    pub fn is_literal(&self) -> bool {
        self.values.iter().all(|v| {
            let v = v.trim();
            v.starts_with('\'') || v.parse::<f64>().is_ok()
        })
    }
}

impl fmt::Display for KeyPredicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (c, v)) in self.columns.iter().zip(&self.values).enumerate() {
            if i > 0 {
                f.write_str(" AND ")?;
            }
            if self.single_row {
                write!(f, "{c} = {v}")?;
            } else {
                write!(f, "{c} IN {v}")?;
            }
        }
        Ok(())
    }
}

/// A node of the lock-order graph: a relation (table and row locks on it) or an advisory key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "name", rename_all = "snake_case")]
pub enum NodeKey {
    /// A relation.
    Relation(RelationName),
    /// An advisory lock key.
    Advisory(Arc<str>),
}

impl fmt::Display for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeKey::Relation(r) => write!(f, "{r}"),
            NodeKey::Advisory(k) => write!(f, "advisory({k})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relation_names_fold_like_postgres() {
        assert_eq!(RelationName::parse("Accounts").as_str(), "accounts");
        assert_eq!(RelationName::parse("public.accounts").as_str(), "accounts");
        assert_eq!(
            RelationName::parse("\"public\".\"accounts\"").as_str(),
            "accounts"
        );
        assert_eq!(RelationName::parse("\"Mixed\"").as_str(), "Mixed");
        assert_eq!(
            RelationName::parse("billing.Ledger").as_str(),
            "billing.ledger"
        );
        assert_eq!(RelationName::parse("db.public.t").as_str(), "t");
    }

    #[test]
    fn identifiers_are_quoted_only_when_needed() {
        assert_eq!(RelationName::new("accounts").to_sql(), "accounts");
        assert_eq!(RelationName::new("Mixed").to_sql(), "\"Mixed\"");
        assert_eq!(
            RelationName::new("billing.ledger").to_sql(),
            "billing.ledger"
        );
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert!(!is_plain_ident("1abc"));
    }

    #[test]
    fn rows_group_with_their_relation() {
        let r = RelationName::new("accounts");
        let rows = LockTarget::Rows {
            relation: r.clone(),
            key: None,
        };
        assert_eq!(rows.node(), LockTarget::Relation { relation: r }.node());
    }
}
