//! Every table of a plan, read as res_config_pgsql reads it (`SELECT *`, text results), in one
//! transaction: `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`, the change detector, each table's
//! query, `COMMIT`, sent as one simple query. Endpoints, auths and phoneprov rows therefore come from one
//! moment of the database, and the detector's value is that moment's: a change made after it is seen by
//! the next poll.

use std::pin::Pin;

use futures_core::Stream;
use pjprov_core::realtime::{Plan, RealtimeRows, TableRows};
use tokio_postgres::{Client, SimpleQueryMessage};

use super::{DbError, detect};

/// What one fetch read.
#[derive(Debug)]
pub struct Fetched {
    pub rows: RealtimeRows,
    /// The change detector's value for the same view.
    pub fingerprint: String,
}

/// Reads every table `plan` names.
pub async fn fetch(client: &Client, plan: &Plan) -> Result<Fetched, DbError> {
    let result = read(client, plan).await;
    if result.is_err() && !client.is_closed() {
        // A failed statement leaves the transaction aborted: end it so the connection can be reused.
        let _ = client.batch_execute("ROLLBACK").await;
    }
    result
}

async fn read(client: &Client, plan: &Plan) -> Result<Fetched, DbError> {
    let queries = plan.queries();
    let tables: Vec<&str> = queries.iter().map(|q| q.table.as_str()).collect();
    let mut sql = String::from("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;");
    sql.push_str(&detect::sql(&tables));
    sql.push(';');
    for query in &queries {
        sql.push_str(&query.sql);
        sql.push(';');
    }
    sql.push_str("COMMIT");
    let stream = client.simple_query_raw(&sql).await?;
    let mut stream = std::pin::pin!(stream);
    let mut results = 0usize;
    let mut fingerprint = None;
    let mut current: Option<TableRows> = None;
    let mut rows = RealtimeRows::new();
    while let Some(message) = next(stream.as_mut()).await {
        match message? {
            SimpleQueryMessage::RowDescription(columns) => {
                if let Some(done) = current.take() {
                    rows.insert(done);
                }
                results += 1;
                if results >= 2 {
                    let Some(table) = tables.get(results - 2) else {
                        return Err(DbError("more results than queries".into()));
                    };
                    current = Some(TableRows::new(
                        *table,
                        format!("pgsql:{table}"),
                        columns.iter().map(|c| c.name().to_owned()).collect(),
                    ));
                }
            }
            SimpleQueryMessage::Row(row) => {
                if results == 1 {
                    fingerprint = Some(row.try_get(0)?.unwrap_or_default().to_owned());
                    continue;
                }
                let Some(table) = current.as_mut() else {
                    continue;
                };
                let mut cells: Vec<(usize, &str)> = Vec::with_capacity(row.len());
                for index in 0..row.len() {
                    let value = row.try_get(index).map_err(|_| {
                        DbError(format!(
                            "a value in table '{}' is not UTF-8 (is the database's encoding SQL_ASCII?)",
                            table.table()
                        ))
                    })?;
                    if let Some(value) = value {
                        cells.push((index, value));
                    }
                }
                table
                    .push(cells)
                    .map_err(|e| DbError(format!("table '{}': {e}", table.table())))?;
            }
            _ => {}
        }
    }
    if let Some(done) = current.take() {
        rows.insert(done);
    }
    for table in &tables {
        if rows.table(table).is_none() {
            return Err(DbError(format!("table '{table}' returned no result")));
        }
    }
    Ok(Fetched {
        rows,
        fingerprint: fingerprint
            .ok_or_else(|| DbError("the change detector returned no row".into()))?,
    })
}

async fn next<S: Stream>(mut stream: Pin<&mut S>) -> Option<S::Item> {
    std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await
}
