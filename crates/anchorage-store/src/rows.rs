//! Rows of any table as JSON, and back: the one codec of the backup (every table, whatever
//! migrations added) and of the analysis archive (an image's rows). A value is JSON `null`, a
//! number (integers exact), a string, a boolean, or `{"b64": "..."}` for bytes. Table and
//! column names come from the database's own catalog, never from input: a name read from a
//! backup is used only when the target database has a table or column of that name.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use serde_json::{Map, Value, json};
use sqlx::AnyConnection;
use sqlx::Row as _;
use sqlx::ValueRef as _;
use sqlx::any::{AnyRow, AnyTypeInfoKind};

use crate::{Backend, StoreError, query_err};

/// A column of a table, as the database describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnInfo {
    /// Name.
    pub(crate) name: String,
    /// PostgreSQL type name (`int8`, `text`, `bytea`, `timestamptz`...); `None` on SQLite.
    pub(crate) pg_type: Option<String>,
}

/// PostgreSQL types the `Any` driver decodes as they are; others travel as text.
const PG_NATIVE: &[&str] = &[
    "bool", "int2", "int4", "int8", "float4", "float8", "bytea", "text", "varchar",
];

impl ColumnInfo {
    fn native(&self) -> bool {
        self.pg_type
            .as_deref()
            .is_none_or(|t| PG_NATIVE.contains(&t))
    }
}

/// `"name"` with embedded quotes doubled.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The base tables of the database (not SQLite's own), sorted by name.
pub(crate) async fn tables(
    conn: &mut AnyConnection,
    backend: Backend,
) -> Result<Vec<String>, StoreError> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) AS t FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        }
    };
    sqlx::query(sql)
        .fetch_all(&mut *conn)
        .await
        .and_then(|rows| rows.iter().map(|r| r.try_get::<String, _>("t")).collect())
        .map_err(query_err("listing tables"))
}

/// The columns of `table`, in order.
pub(crate) async fn columns(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
) -> Result<Vec<ColumnInfo>, StoreError> {
    let err = query_err("reading a table's columns");
    match backend {
        Backend::Sqlite => {
            let rows = sqlx::query("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                .bind(table.to_string())
                .fetch_all(&mut *conn)
                .await
                .map_err(err)?;
            rows.iter()
                .map(|r| {
                    Ok(ColumnInfo {
                        name: r.try_get("name")?,
                        pg_type: None,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(query_err("reading a table's columns"))
        }
        Backend::Postgres => {
            let rows = sqlx::query(
                "SELECT CAST(column_name AS TEXT) AS name, CAST(udt_name AS TEXT) AS ty \
                 FROM information_schema.columns WHERE table_schema = current_schema() \
                 AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table.to_string())
            .fetch_all(&mut *conn)
            .await
            .map_err(err)?;
            rows.iter()
                .map(|r| {
                    Ok(ColumnInfo {
                        name: r.try_get("name")?,
                        pg_type: Some(r.try_get("ty")?),
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(query_err("reading a table's columns"))
        }
    }
}

/// For each table, the tables its foreign keys point at.
pub(crate) async fn references(
    conn: &mut AnyConnection,
    backend: Backend,
    tables: &[String],
) -> Result<BTreeMap<String, BTreeSet<String>>, StoreError> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    match backend {
        Backend::Sqlite => {
            for t in tables {
                let rows = sqlx::query("SELECT \"table\" AS r FROM pragma_foreign_key_list($1)")
                    .bind(t.clone())
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(query_err("reading foreign keys"))?;
                for r in rows {
                    let to: String = r.try_get("r").map_err(query_err("reading foreign keys"))?;
                    out.entry(t.clone()).or_default().insert(to);
                }
            }
        }
        Backend::Postgres => {
            let rows = sqlx::query(
                "SELECT CAST(tc.table_name AS TEXT) AS f, CAST(ccu.table_name AS TEXT) AS r \
                 FROM information_schema.table_constraints tc \
                 JOIN information_schema.constraint_column_usage ccu \
                   ON tc.constraint_name = ccu.constraint_name \
                  AND tc.constraint_schema = ccu.constraint_schema \
                 WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()",
            )
            .fetch_all(&mut *conn)
            .await
            .map_err(query_err("reading foreign keys"))?;
            for r in rows {
                let from: String = r.try_get("f").map_err(query_err("reading foreign keys"))?;
                let to: String = r.try_get("r").map_err(query_err("reading foreign keys"))?;
                out.entry(from).or_default().insert(to);
            }
        }
    }
    Ok(out)
}

/// `tables` ordered so that a table comes after the tables it references (a cycle or a
/// self-reference keeps name order for the rest).
pub(crate) fn dependency_order(
    tables: &[String],
    refs: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut done: Vec<String> = Vec::new();
    let mut left: Vec<String> = tables.to_vec();
    while !left.is_empty() {
        let ready: Vec<String> = left
            .iter()
            .filter(|t| {
                refs.get(*t).is_none_or(|deps| {
                    deps.iter()
                        .all(|d| d == *t || done.contains(d) || !tables.contains(d))
                })
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            done.append(&mut left);
            break;
        }
        left.retain(|t| !ready.contains(t));
        done.extend(ready);
    }
    done
}

/// The select list of `cols`: PostgreSQL columns of other types are read as text.
pub(crate) fn select_list(cols: &[ColumnInfo]) -> String {
    cols.iter()
        .map(|c| {
            if c.native() {
                quote(&c.name)
            } else {
                format!("CAST({} AS TEXT) AS {}", quote(&c.name), quote(&c.name))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One row as JSON values, in column order.
pub(crate) fn row_values(row: &AnyRow) -> Result<Vec<Value>, sqlx::Error> {
    let b64 = base64::engine::general_purpose::STANDARD;
    (0..row.len())
        .map(|i| {
            let raw = row.try_get_raw(i)?;
            if raw.is_null() {
                return Ok(Value::Null);
            }
            let kind = raw.type_info().kind();
            Ok(match kind {
                AnyTypeInfoKind::Bool => Value::Bool(row.try_get::<bool, _>(i)?),
                AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
                    json!(row.try_get::<i64, _>(i)?)
                }
                AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => {
                    json!(row.try_get::<f64, _>(i)?)
                }
                AnyTypeInfoKind::Blob => {
                    json!({"b64": b64.encode(row.try_get::<Vec<u8>, _>(i)?)})
                }
                AnyTypeInfoKind::Text => Value::String(row.try_get::<String, _>(i)?),
                AnyTypeInfoKind::Null => Value::Null,
            })
        })
        .collect()
}

/// One row as a JSON object (column name -> value).
pub(crate) fn row_object(row: &AnyRow) -> Result<Map<String, Value>, sqlx::Error> {
    use sqlx::Column as _;
    let values = row_values(row)?;
    Ok(row
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .zip(values)
        .collect())
}

/// Why a JSON value cannot go into a column.
#[derive(Debug)]
pub(crate) struct BadValue(pub(crate) String);

/// An `INSERT` of `cols` into `table` (PostgreSQL: values cast to the column's type when it is
/// not one the driver binds).
pub(crate) fn insert_sql(table: &str, cols: &[&ColumnInfo]) -> String {
    let names: Vec<String> = cols.iter().map(|c| quote(&c.name)).collect();
    let params: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| match &c.pg_type {
            Some(t) if !c.native() => format!("CAST(${} AS {})", i + 1, quote(t)),
            _ => format!("${}", i + 1),
        })
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        quote(table),
        names.join(", "),
        params.join(", ")
    )
}

/// Binds `value` for `col`.
pub(crate) fn bind<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    col: &ColumnInfo,
    value: &Value,
) -> Result<sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>, BadValue> {
    let pg = col.pg_type.as_deref();
    let integer_column = matches!(pg, Some("int2" | "int4" | "int8"));
    Ok(match value {
        Value::Null => match pg {
            Some("bool") => q.bind(None::<bool>),
            Some("int2" | "int4" | "int8") => q.bind(None::<i64>),
            Some("float4" | "float8") => q.bind(None::<f64>),
            Some("bytea") => q.bind(None::<Vec<u8>>),
            _ => q.bind(None::<String>),
        },
        Value::Bool(b) if integer_column => q.bind(i64::from(*b)),
        Value::Bool(b) => q.bind(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                if pg == Some("bool") {
                    q.bind(i != 0)
                } else if pg.is_some() && !col.native() {
                    q.bind(i.to_string())
                } else {
                    q.bind(i)
                }
            } else if let Some(f) = n.as_f64() {
                q.bind(f)
            } else {
                return Err(BadValue(format!("{}: number {n} out of range", col.name)));
            }
        }
        Value::String(s) => q.bind(s.clone()),
        Value::Object(o) => match o.get("b64").and_then(Value::as_str) {
            Some(text) if o.len() == 1 => q.bind(
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|e| BadValue(format!("{}: bytes are not base64: {e}", col.name)))?,
            ),
            _ => return Err(BadValue(format!("{}: unexpected object value", col.name))),
        },
        Value::Array(_) => return Err(BadValue(format!("{}: unexpected list value", col.name))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referenced_tables_come_first() {
        let tables: Vec<String> = ["users", "accounts", "images", "events"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut refs = BTreeMap::new();
        refs.insert(
            "users".to_string(),
            BTreeSet::from(["accounts".to_string()]),
        );
        refs.insert(
            "images".to_string(),
            BTreeSet::from(["accounts".to_string(), "images".to_string()]),
        );
        let order = dependency_order(&tables, &refs);
        let pos = |t: &str| order.iter().position(|x| x == t);
        assert!(pos("accounts") < pos("users"));
        assert!(pos("accounts") < pos("images"));
        assert_eq!(order.len(), 4);
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
        let c = ColumnInfo {
            name: "at".into(),
            pg_type: Some("timestamptz".into()),
        };
        let t = ColumnInfo {
            name: "n".into(),
            pg_type: Some("int8".into()),
        };
        assert_eq!(
            insert_sql("t", &[&t, &c]),
            "INSERT INTO \"t\" (\"n\", \"at\") VALUES ($1, CAST($2 AS \"timestamptz\"))"
        );
        assert_eq!(
            select_list(&[t, c]),
            "\"n\", CAST(\"at\" AS TEXT) AS \"at\""
        );
    }
}
