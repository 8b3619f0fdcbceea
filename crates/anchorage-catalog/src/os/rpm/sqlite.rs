//! Reader of rpm's SQLite database (`rpmdb.sqlite`, Fedora 33+, RHEL 9): the `Packages` table's
//! `blob` column. SQLite needs a file, so the database (and its WAL, when the image has one) is
//! copied to a private temporary directory and opened there.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::os::Parsed;

/// Returns every header blob in the `Packages` table. Never panics; problems become warnings.
pub(crate) fn read_blobs(db: &[u8], wal: Option<&[u8]>) -> Parsed<Vec<u8>> {
    let mut out = Parsed::default();
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            out.warnings
                .push(format!("cannot create a scratch directory: {e}"));
            return out;
        }
    };
    let path = dir.path().join("rpmdb.sqlite");
    if let Err(e) = std::fs::write(&path, db) {
        out.warnings.push(format!("cannot write scratch copy: {e}"));
        return out;
    }
    if let Some(wal) = wal.filter(|w| !w.is_empty())
        && let Err(e) = std::fs::write(dir.path().join("rpmdb.sqlite-wal"), wal)
    {
        out.warnings
            .push(format!("cannot write scratch copy of the WAL: {e}"));
    }
    if let Err(e) = read_into(&path, &mut out.packages) {
        out.warnings.push(format!("sqlite: {e}"));
    }
    out
}

fn read_into(path: &Path, blobs: &mut Vec<Vec<u8>>) -> Result<(), rusqlite::Error> {
    // Read-write on our private copy so a WAL can be applied; the image is never touched.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut stmt = conn.prepare("SELECT blob FROM Packages")?;
    let rows = stmt.query_map([], |row| row.get::<_, Vec<u8>>(0))?;
    for row in rows {
        blobs.push(row?);
    }
    Ok(())
}
