//! Read snapshots of the store: one read transaction, so a sync committing meanwhile is not
//! seen half-way.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use rusqlite::{OptionalExtension, Transaction};

use crate::error::{VulnDbError, store_err};
use crate::pack::unpack;
use anchorage_advisory::{
    Advisory, MemorySource, NvdEntry, SourceError, SourcedAdvisory, VulnSource,
};

/// A consistent read view of the store (one read transaction).
pub struct Snapshot<'a> {
    pub(crate) tx: Transaction<'a>,
    pub(crate) path: &'a str,
    pub(crate) has_nvd: std::cell::OnceCell<bool>,
    pub(crate) inflate: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>>,
}

impl std::fmt::Debug for Snapshot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("path", &self.path)
            .finish()
    }
}

impl Snapshot<'_> {
    fn query_advisories(
        &self,
        sql: &str,
        arg: &str,
    ) -> Result<Vec<Arc<SourcedAdvisory>>, VulnDbError> {
        let err = store_err(self.path);
        let mut stmt = self.tx.prepare_cached(sql).map_err(&err)?;
        let rows = stmt
            .query_map([arg], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })
            .map_err(&err)?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, key, packed) = row.map_err(&err)?;
            out.push(Arc::new(self.decode(kind, key, &packed)?));
        }
        Ok(out)
    }

    /// Runs a `(name, advisory rowid, source kind, source key, body)` query whose `?1` is a JSON
    /// list, decoding each advisory once and grouping them by name.
    fn grouped_query(
        &self,
        sql: &str,
        list: String,
    ) -> Result<HashMap<String, Vec<Arc<SourcedAdvisory>>>, VulnDbError> {
        let err = store_err(self.path);
        let mut stmt = self.tx.prepare_cached(sql).map_err(&err)?;
        let rows = stmt
            .query_map([list], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                ))
            })
            .map_err(&err)?;
        let mut decoded: HashMap<i64, Arc<SourcedAdvisory>> = HashMap::new();
        let mut out: HashMap<String, Vec<Arc<SourcedAdvisory>>> = HashMap::new();
        for row in rows {
            let (name, rowid, kind, key, packed) = row.map_err(&err)?;
            let adv = match decoded.get(&rowid) {
                Some(a) => Arc::clone(a),
                None => {
                    let a = Arc::new(self.decode(kind, key, &packed)?);
                    decoded.insert(rowid, Arc::clone(&a));
                    a
                }
            };
            out.entry(name).or_default().push(adv);
        }
        Ok(out)
    }

    fn decode(
        &self,
        kind: String,
        key: String,
        packed: &[u8],
    ) -> Result<SourcedAdvisory, VulnDbError> {
        let body =
            unpack(&mut self.inflate.borrow_mut(), packed).map_err(|e| VulnDbError::Document {
                feed: key.clone(),
                path: self.path.to_string(),
                message: format!("stored record does not decompress: {e}"),
            })?;
        let advisory: Advisory =
            serde_json::from_str(&body).map_err(|e| VulnDbError::Document {
                feed: key.clone(),
                path: self.path.to_string(),
                message: format!("stored record does not decode: {e}"),
            })?;
        Ok(SourcedAdvisory {
            feed: kind,
            source: key,
            advisory,
        })
    }

    /// Load everything into memory (for repeated re-matching).
    pub fn to_memory(&self) -> Result<MemorySource, VulnDbError> {
        let all = self.query_advisories(
            "SELECT s.kind, s.key, a.body FROM advisories a JOIN sources s ON s.id = a.source_id \
             WHERE ?1 = ?1",
            "",
        )?;
        let mut mem = MemorySource::default();
        for a in all {
            mem.insert_arc(a);
        }
        let err = store_err(self.path);
        let mut stmt = self.tx.prepare("SELECT body FROM nvd").map_err(&err)?;
        let rows = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .map_err(&err)?;
        for row in rows {
            let packed = row.map_err(&err)?;
            if let Ok(entry) = unpack(&mut self.inflate.borrow_mut(), &packed)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_str::<NvdEntry>(&b).map_err(|e| e.to_string()))
            {
                mem.insert_nvd(entry);
            }
        }
        Ok(mem)
    }
}

impl VulnSource for Snapshot<'_> {
    fn advisories_for(&self, name: &str) -> Result<Vec<Arc<SourcedAdvisory>>, SourceError> {
        Ok(self.query_advisories(
            "SELECT s.kind, s.key, a.body FROM advisories a JOIN sources s ON s.id = a.source_id \
             WHERE a.rowid IN (SELECT a2.rowid FROM affected f JOIN advisories a2 \
             ON a2.source_id = f.source_id AND a2.id = f.advisory_id WHERE f.name = ?1)",
            name,
        )?)
    }

    fn advisories_for_names(
        &self,
        names: &[String],
    ) -> Result<HashMap<String, Vec<Arc<SourcedAdvisory>>>, SourceError> {
        let list = serde_json::to_string(names).map_err(|e| VulnDbError::Document {
            feed: "store".into(),
            path: self.path.to_string(),
            message: e.to_string(),
        })?;
        Ok(self.grouped_query(
            "SELECT m.name, a.rowid, s.kind, s.key, a.body FROM \
                 (SELECT DISTINCT f.name AS name, a2.rowid AS rid FROM json_each(?1) j \
                  JOIN affected f ON f.name = j.value \
                  JOIN advisories a2 ON a2.source_id = f.source_id AND a2.id = f.advisory_id) m \
                 JOIN advisories a ON a.rowid = m.rid JOIN sources s ON s.id = a.source_id",
            list,
        )?)
    }

    fn advisories_for_targets(
        &self,
        targets: &[(String, String)],
    ) -> Result<HashMap<String, Vec<Arc<SourcedAdvisory>>>, SourceError> {
        let list = serde_json::to_string(targets).map_err(|e| VulnDbError::Document {
            feed: "store".into(),
            path: self.path.to_string(),
            message: e.to_string(),
        })?;
        Ok(self.grouped_query(
            "SELECT m.name, a.rowid, s.kind, s.key, a.body FROM \
                 (SELECT DISTINCT f.name AS name, a2.rowid AS rid FROM json_each(?1) j \
                  JOIN affected f ON f.name = json_extract(j.value, '$[1]') \
                  AND (f.ecosystem = json_extract(j.value, '$[0]') \
                       OR f.ecosystem LIKE json_extract(j.value, '$[0]') || ':%') \
                  JOIN advisories a2 ON a2.source_id = f.source_id AND a2.id = f.advisory_id) m \
                 JOIN advisories a ON a.rowid = m.rid JOIN sources s ON s.id = a.source_id",
            list,
        )?)
    }

    fn advisories_by_id(&self, vuln_id: &str) -> Result<Vec<Arc<SourcedAdvisory>>, SourceError> {
        Ok(self.query_advisories(
            "SELECT s.kind, s.key, a.body FROM advisories a JOIN sources s ON s.id = a.source_id \
             WHERE a.rowid IN (SELECT a2.rowid FROM vuln_ids v JOIN advisories a2 \
             ON a2.source_id = v.source_id AND a2.id = v.advisory_id WHERE v.vuln_id = ?1)",
            vuln_id,
        )?)
    }

    fn nvd(&self, cve: &str) -> Result<Option<NvdEntry>, SourceError> {
        let err = store_err(self.path);
        if self.has_nvd.get().is_none() {
            let any: bool = self
                .tx
                .query_row("SELECT EXISTS (SELECT 1 FROM nvd)", [], |r| r.get(0))
                .map_err(&err)?;
            let _ = self.has_nvd.set(any);
        }
        if self.has_nvd.get() == Some(&false) {
            return Ok(None);
        }
        let body: Option<Vec<u8>> = self
            .tx
            .prepare_cached("SELECT body FROM nvd WHERE cve = ?1 LIMIT 1")
            .and_then(|mut s| s.query_row([cve], |r| r.get(0)).optional())
            .map_err(err)?;
        Ok(body
            .and_then(|b| unpack(&mut self.inflate.borrow_mut(), &b).ok())
            .and_then(|b| serde_json::from_str(&b).ok()))
    }

    fn fix_observed_at(
        &self,
        advisory_id: &str,
        ecosystem: &str,
        name: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, SourceError> {
        Ok(crate::fix_observed::query(
            &self.tx,
            self.path,
            advisory_id,
            ecosystem,
            name,
        )?)
    }

    fn ecosystems(&self) -> Result<BTreeSet<String>, SourceError> {
        let err = store_err(self.path);
        let mut stmt = self
            .tx
            .prepare_cached("SELECT DISTINCT ecosystem FROM groups WHERE record_count > 0")
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(&err)?;
        Ok(rows.collect::<Result<BTreeSet<_>, _>>().map_err(err)?)
    }
}
