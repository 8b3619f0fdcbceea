//! Read-only walker of Berkeley DB files (`var/lib/rpm/Packages`, RHEL/CentOS 5-8, older SUSE).
//! Hand-written because no maintained Rust crate reads BDB; only what rpmdb uses is supported:
//! both access methods rpm has used for `Packages` (hash, the default, and btree), their
//! metadata pages, hash pages (sorted and unsorted), btree internal and leaf pages, and
//! overflow page chains, in either byte order (Berkeley DB writes a file in the byte order it
//! was created with, `db_lorder`, and marks it by the order of the magic number).
//! Layout per libdb's `dbinc/db_page.h` (generic 26-byte page header: LSN, pgno, prev, next,
//! entries, hf_offset, level, type).

use crate::os::Parsed;

const HASH_MAGIC: u32 = 0x0006_1561;
const BTREE_MAGIC: u32 = 0x0005_3162;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_IBTREE: u8 = 3;
const P_LBTREE: u8 = 5;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_BTREEMETA: u8 = 9;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
const B_KEYDATA: u8 = 1;
const B_DUPLICATE: u8 = 2;
const B_OVERFLOW: u8 = 3;
/// Flag bit of a btree item's type: the item is deleted.
const B_DELETE: u8 = 0x80;
/// Offset of the root page number in a btree metadata page (`BTMETA.root`).
const BTREE_ROOT: usize = 88;
/// Largest value assembled from an overflow chain.
const MAX_VALUE: usize = 256 * 1024 * 1024;

#[derive(Clone, Copy)]
struct Order {
    big: bool,
}

impl Order {
    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let s = b.get(at..at.checked_add(4)?)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if self.big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let s = b.get(at..at.checked_add(2)?)?;
        let a = [s[0], s[1]];
        Some(if self.big {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }
}

/// Returns every value stored in a BDB hash or btree file (for rpmdb: header blobs, plus short
/// bookkeeping records the caller skips). Never panics; problems become warnings.
pub(crate) fn read_blobs(db: &[u8]) -> Parsed<Vec<u8>> {
    let mut out = Parsed::default();
    let little = Order { big: false };
    let big = Order { big: true };
    let Some((order, magic)) = [little, big].into_iter().find_map(|o| {
        o.u32(db, 12)
            .filter(|m| *m == HASH_MAGIC || *m == BTREE_MAGIC)
            .map(|m| (o, m))
    }) else {
        out.warnings
            .push("not a Berkeley DB hash or btree file (bad magic)".into());
        return out;
    };
    let (want_type, what) = if magic == HASH_MAGIC {
        (P_HASHMETA, "hash")
    } else {
        (P_BTREEMETA, "btree")
    };
    if db.get(25) != Some(&want_type) {
        out.warnings
            .push(format!("metadata page is not a {what} metadata page"));
        return out;
    }
    if db.get(24).copied().unwrap_or(0) != 0 {
        out.warnings
            .push("encrypted Berkeley DB files are not supported".into());
        return out;
    }
    let page_size = order.u32(db, 20).unwrap_or(0) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        out.warnings.push(format!("invalid page size {page_size}"));
        return out;
    }
    let last_pgno = order.u32(db, 32).unwrap_or(0) as usize;
    let pages_in_file = db.len() / page_size;
    if last_pgno + 1 > pages_in_file {
        out.warnings.push(format!(
            "file holds {pages_in_file} pages, metadata says {}; reading what is there",
            last_pgno + 1
        ));
    }
    let last = last_pgno.min(pages_in_file.saturating_sub(1));
    if magic == BTREE_MAGIC {
        read_btree(db, order, page_size, last, &mut out);
    } else {
        read_hash(db, order, page_size, last, &mut out);
    }
    out
}

/// Hash files: every hash page (1..=`last`) holds key/value pairs; values are read in page order.
fn read_hash(db: &[u8], order: Order, page_size: usize, last: usize, out: &mut Parsed<Vec<u8>>) {
    for pgno in 1..=last {
        let page = &db[pgno * page_size..(pgno + 1) * page_size];
        let kind = page[25];
        if kind != P_HASH && kind != P_HASH_UNSORTED {
            continue;
        }
        let entries = usize::from(order.u16(page, 20).unwrap_or(0));
        let mut offsets = Vec::with_capacity(entries);
        for i in 0..entries {
            match order.u16(page, PAGE_HEADER + 2 * i) {
                Some(o) => offsets.push(usize::from(o)),
                None => {
                    out.warnings
                        .push(format!("page {pgno}: index beyond page end"));
                    break;
                }
            }
        }
        // Items alternate key, value; values are at odd indexes.
        for i in (1..offsets.len()).step_by(2) {
            let off = offsets[i];
            // Items grow down from the page end: item i ends where item i-1 starts.
            let end = offsets[i - 1].min(page_size);
            let Some(&item_type) = page.get(off) else {
                out.warnings
                    .push(format!("page {pgno}: item {i} offset {off} beyond page"));
                continue;
            };
            match item_type {
                H_OFFPAGE => match overflow_value(db, page, off, page_size, order) {
                    Ok(v) => out.packages.push(v),
                    Err(e) => out.warnings.push(format!("page {pgno} item {i}: {e}")),
                },
                H_KEYDATA if off < end => out.packages.push(page[off + 1..end].to_vec()),
                other => out.warnings.push(format!(
                    "page {pgno} item {i}: unsupported item type {other}"
                )),
            }
        }
    }
}

/// Btree files: walks the tree from the root named in the metadata page, depth first and left
/// to right, so values come in key order. Every page is visited at most once (a page reached
/// twice is a loop, reported and not followed), so the walk is bounded by the page count.
fn read_btree(db: &[u8], order: Order, page_size: usize, last: usize, out: &mut Parsed<Vec<u8>>) {
    let root = order.u32(db, BTREE_ROOT).unwrap_or(0) as usize;
    let mut visited = vec![false; last + 1];
    let mut stack = vec![root];
    while let Some(pgno) = stack.pop() {
        if pgno == 0 || pgno > last {
            out.warnings.push(format!(
                "btree page {pgno} is outside the file (pages 1..={last})"
            ));
            continue;
        }
        if std::mem::replace(&mut visited[pgno], true) {
            out.warnings.push(format!(
                "btree page {pgno} is reached twice (loop); not followed"
            ));
            continue;
        }
        let page = &db[pgno * page_size..(pgno + 1) * page_size];
        let entries = usize::from(order.u16(page, 20).unwrap_or(0));
        let offsets: Vec<usize> = (0..entries)
            .map_while(|i| order.u16(page, PAGE_HEADER + 2 * i).map(usize::from))
            .collect();
        if offsets.len() < entries {
            out.warnings
                .push(format!("page {pgno}: index beyond page end"));
        }
        match page[25] {
            P_IBTREE => {
                // BINTERNAL: len u16, type u8, unused u8, child pgno u32, nrecs u32, key.
                // Pushed in reverse so that the leftmost child is walked first.
                for (i, &off) in offsets.iter().enumerate().rev() {
                    match order.u32(page, off + 4) {
                        Some(child) => stack.push(child as usize),
                        None => out.warnings.push(format!(
                            "page {pgno} item {i}: internal item beyond page end"
                        )),
                    }
                }
            }
            P_LBTREE => {
                // Items alternate key, value; values are at odd indexes.
                for i in (1..offsets.len()).step_by(2) {
                    let off = offsets[i];
                    let Some(&item_type) = page.get(off + 2) else {
                        out.warnings
                            .push(format!("page {pgno}: item {i} offset {off} beyond page"));
                        continue;
                    };
                    if item_type & B_DELETE != 0 {
                        continue;
                    }
                    match item_type {
                        // BKEYDATA: len u16, type u8, data.
                        B_KEYDATA => {
                            let len = usize::from(order.u16(page, off).unwrap_or(0));
                            match page.get(off + 3..off + 3 + len) {
                                Some(v) => out.packages.push(v.to_vec()),
                                None => out.warnings.push(format!(
                                    "page {pgno} item {i}: {len}-byte value runs past the page"
                                )),
                            }
                        }
                        // BOVERFLOW: unused u16, type u8, unused u8, pgno u32, tlen u32.
                        B_OVERFLOW => match overflow_value(db, page, off, page_size, order) {
                            Ok(v) => out.packages.push(v),
                            Err(e) => out.warnings.push(format!("page {pgno} item {i}: {e}")),
                        },
                        B_DUPLICATE => out.warnings.push(format!(
                            "page {pgno} item {i}: off-page duplicates are not used by rpm; skipped"
                        )),
                        other => out.warnings.push(format!(
                            "page {pgno} item {i}: unsupported item type {other}"
                        )),
                    }
                }
            }
            other => out.warnings.push(format!(
                "page {pgno}: expected a btree internal or leaf page, found page type {other}"
            )),
        }
    }
}

fn overflow_value(
    db: &[u8],
    page: &[u8],
    off: usize,
    page_size: usize,
    order: Order,
) -> Result<Vec<u8>, String> {
    // HOFFPAGE (hash): type u8, 3 unused, pgno u32, tlen u32; BOVERFLOW (btree): 2 unused,
    // type u8, unused u8, pgno u32, tlen u32. Both keep pgno at +4 and tlen at +8.
    let mut pgno = order.u32(page, off + 4).ok_or("truncated off-page item")? as usize;
    let total = order.u32(page, off + 8).ok_or("truncated off-page item")? as usize;
    if total > MAX_VALUE {
        return Err(format!("off-page value of {total} bytes exceeds the limit"));
    }
    if total > db.len() {
        return Err(format!(
            "off-page value of {total} bytes is larger than the {}-byte file",
            db.len()
        ));
    }
    let mut value = Vec::with_capacity(total);
    // Pages of this chain seen so far: a page met twice is a loop (the chain would otherwise
    // be followed until `total` bytes were copied, repeating pages into the value).
    let mut seen = std::collections::HashSet::new();
    while pgno != 0 && value.len() < total {
        if !seen.insert(pgno) {
            return Err(format!("overflow chain loops back to page {pgno}"));
        }
        let start = pgno.checked_mul(page_size).ok_or("page number overflows")?;
        let p = db
            .get(start..start + page_size)
            .ok_or_else(|| format!("overflow page {pgno} beyond end of file"))?;
        if p[25] != P_OVERFLOW {
            return Err(format!(
                "page {pgno} in overflow chain is not an overflow page"
            ));
        }
        let next = order.u32(p, 16).unwrap_or(0) as usize;
        // An overflow page keeps the number of value bytes it holds in hf_offset (`OV_LEN`).
        let len_here = usize::from(order.u16(p, 22).unwrap_or(0));
        let take = len_here
            .min(page_size - PAGE_HEADER)
            .min(total - value.len());
        if take == 0 {
            return Err(format!("overflow page {pgno} holds no bytes"));
        }
        value.extend_from_slice(&p[PAGE_HEADER..PAGE_HEADER + take]);
        pgno = next;
    }
    if value.len() < total {
        return Err(format!(
            "overflow chain ended after {} of {total} bytes",
            value.len()
        ));
    }
    Ok(value)
}
