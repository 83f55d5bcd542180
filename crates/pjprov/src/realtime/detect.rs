//! The change detector: one query, one text value, that changes whenever what a fetch would read does.
//!
//! Per table: the row count and the sum of the rows' `xmin` (every `INSERT` and `UPDATE` writes a row
//! version with a transaction id larger than all older ones, so with the count unchanged the sum rises),
//! the table's oid (a table dropped and created again), and a digest of its columns' names and types (a
//! column added, renamed or retyped: new variables for phoneprov rows). It reads every row's header
//! but no value: a sequential scan without decoding, milliseconds for 100,000 rows.
//!
//! Blind spot: transaction ids wrap around after four billion transactions; a change made just then can
//! go unseen by the sum. The LISTEN/NOTIFY trigger (docs/realtime.md) and any later change cover it.

use tokio_postgres::{Client, SimpleQueryMessage};

use super::DbError;

/// The detector's query for `tables` (plain names: `Plan` refuses others).
pub fn sql(tables: &[&str]) -> String {
    let parts: Vec<String> = tables
        .iter()
        .map(|t| {
            format!(
                "(SELECT count(*)::text || ':' || coalesce(sum(xmin::text::bigint), 0)::text FROM {t}) || ':' || '{t}'::regclass::oid::text || ':' || (SELECT md5(string_agg(attname || ' ' || atttypid::text, ',' ORDER BY attnum)) FROM pg_attribute WHERE attrelid = '{t}'::regclass AND attnum > 0 AND NOT attisdropped)"
            )
        })
        .collect();
    if parts.is_empty() {
        return "SELECT ''".to_owned();
    }
    format!("SELECT {}", parts.join(" || '|' || "))
}

/// The detector's value now.
pub async fn fingerprint(client: &Client, tables: &[&str]) -> Result<String, DbError> {
    for message in client.simple_query(&sql(tables)).await? {
        if let SimpleQueryMessage::Row(row) = message {
            return Ok(row.try_get(0)?.unwrap_or_default().to_owned());
        }
    }
    Err(DbError("the change detector returned no row".into()))
}
