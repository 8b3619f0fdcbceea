//! Reader of rpm's NDB package database (`Packages.db`, SUSE 15.3+). Hand-written: the format
//! is a 32-byte header, slot pages of 16-byte slots, and 16-byte-aligned blobs, all
//! little-endian (rpm's `lib/backend/ndb/rpmpkg.c`).

use crate::os::Parsed;

const HEADER_MAGIC: u32 = u32::from_le_bytes(*b"RpmP");
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const SLOTS_PER_PAGE: usize = 4096 / 16;
const BLOCK: usize = 16;
/// Largest number of slot pages accepted.
const MAX_SLOT_PAGES: usize = 4096;

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Returns the header blob of every package slot. Never panics; problems become warnings.
pub(crate) fn read_blobs(db: &[u8]) -> Parsed<Vec<u8>> {
    let mut out = Parsed::default();
    if le32(db, 0) != Some(HEADER_MAGIC) {
        out.warnings
            .push("not an rpm NDB database (bad magic)".into());
        return out;
    }
    let slot_pages = le32(db, 12).unwrap_or(0) as usize;
    if slot_pages == 0 || slot_pages > MAX_SLOT_PAGES {
        out.warnings
            .push(format!("invalid slot page count {slot_pages}"));
        return out;
    }
    // The first two slots are taken by the 32-byte header.
    let slots = slot_pages * SLOTS_PER_PAGE - 2;
    for i in 0..slots {
        let at = 32 + i * 16;
        let (Some(magic), Some(pkg), Some(blk_offset), Some(_blk_count)) = (
            le32(db, at),
            le32(db, at + 4),
            le32(db, at + 8),
            le32(db, at + 12),
        ) else {
            out.warnings.push(format!("slot {i} beyond end of file"));
            break;
        };
        if magic != SLOT_MAGIC {
            out.warnings
                .push(format!("slot {i}: bad slot magic {magic:#x}"));
            break;
        }
        if pkg == 0 {
            continue;
        }
        let start = blk_offset as usize * BLOCK;
        let (Some(bmagic), Some(bpkg), Some(_cksum), Some(len)) = (
            le32(db, start),
            le32(db, start + 4),
            le32(db, start + 8),
            le32(db, start + 12),
        ) else {
            out.warnings
                .push(format!("package {pkg}: blob header beyond end of file"));
            continue;
        };
        if bmagic != BLOB_MAGIC || bpkg != pkg {
            out.warnings.push(format!(
                "package {pkg}: bad blob header at block {blk_offset}"
            ));
            continue;
        }
        match db.get(start + 16..start + 16 + len as usize) {
            Some(blob) => out.packages.push(blob.to_vec()),
            None => out.warnings.push(format!(
                "package {pkg}: blob of {len} bytes beyond end of file"
            )),
        }
    }
    out
}
