//! Read-only catalog look-ups: relation OIDs (as deadlock reports and lock waits print them) to
//! schema-qualified names.

use crate::connect::{connect, query_error};
use crate::spec::ConnectionSpec;
use crate::{Error, runtime};

/// What [`relation_names`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelationNames {
    /// `(relation OID, database OID, schema, name)` of each OID found in `pg_class`.
    pub found: Vec<(u32, u32, String, String)>,
    /// The OID of the database connected to: only its relations can be named.
    pub database: u32,
    /// OIDs of other databases, not looked up.
    pub other_database: Vec<(u32, u32)>,
    /// OIDs of this database that `pg_class` no longer has (dropped since the log was written).
    pub missing: Vec<(u32, u32)>,
}

/// Names relation OIDs (`(relation OID, database OID)` pairs, as the server prints them) from
/// `pg_class` of the database `spec` connects to. Only catalog reads, in a read-only transaction
/// with short lock and statement timeouts: nothing that could hold up the inspected server.
pub async fn relation_names(
    spec: &ConnectionSpec,
    oids: &[(u32, u32)],
) -> Result<RelationNames, Error> {
    let client = connect(spec, None).await?;
    client
        .batch_execute(
            "SET default_transaction_read_only = on; SET lock_timeout = '1s'; \
             SET statement_timeout = '10s'",
        )
        .await
        .map_err(|e| query_error("setting read-only timeouts", &e))?;
    let db: u32 = client
        .query_one(
            "SELECT oid FROM pg_database WHERE datname = current_database()",
            &[],
        )
        .await
        .map_err(|e| query_error("reading the database OID", &e))?
        .get(0);
    let mut out = RelationNames {
        database: db,
        ..RelationNames::default()
    };
    let mut wanted: Vec<u32> = Vec::new();
    for &(rel, in_db) in oids {
        if in_db == db {
            if !wanted.contains(&rel) {
                wanted.push(rel);
            }
        } else if !out.other_database.contains(&(rel, in_db)) {
            out.other_database.push((rel, in_db));
        }
    }
    if wanted.is_empty() {
        return Ok(out);
    }
    let rows = client
        .query(
            "SELECT c.oid, n.nspname::text, c.relname::text \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.oid = ANY($1)",
            &[&wanted],
        )
        .await
        .map_err(|e| query_error("reading pg_class", &e))?;
    for row in rows {
        let oid: u32 = row.get(0);
        out.found.push((oid, db, row.get(1), row.get(2)));
    }
    for rel in wanted {
        if !out.found.iter().any(|f| f.0 == rel) {
            out.missing.push((rel, db));
        }
    }
    out.found.sort();
    Ok(out)
}

/// Blocking [`relation_names`], on a current-thread runtime of its own.
pub fn relation_names_blocking(
    spec: &ConnectionSpec,
    oids: &[(u32, u32)],
) -> Result<RelationNames, Error> {
    runtime()?.block_on(relation_names(spec, oids))
}
