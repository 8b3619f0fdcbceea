//! Read-only walker of Berkeley DB hash files (`var/lib/rpm/Packages`, RHEL 7/8, older SUSE).
//! Hand-written because no maintained Rust crate reads BDB; only what rpmdb uses is supported:
//! the hash metadata page, hash pages (sorted and unsorted) and overflow page chains.
//! Layout per libdb's `dbinc/db_page.h`.

use crate::os::Parsed;

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
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

/// Returns every value stored in a BDB hash file (for rpmdb: header blobs, plus short
/// bookkeeping records the caller skips). Never panics; problems become warnings.
pub(crate) fn read_blobs(db: &[u8]) -> Parsed<Vec<u8>> {
    let mut out = Parsed::default();
    let little = Order { big: false };
    let big = Order { big: true };
    let order = if little.u32(db, 12) == Some(HASH_MAGIC) {
        little
    } else if big.u32(db, 12) == Some(HASH_MAGIC) {
        big
    } else {
        out.warnings
            .push("not a Berkeley DB hash file (bad magic)".into());
        return out;
    };
    if db.get(25) != Some(&P_HASHMETA) {
        out.warnings
            .push("metadata page is not a hash metadata page".into());
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
    out
}

fn overflow_value(
    db: &[u8],
    page: &[u8],
    off: usize,
    page_size: usize,
    order: Order,
) -> Result<Vec<u8>, String> {
    // HOFFPAGE: type u8, 3 unused, pgno u32, tlen u32.
    let mut pgno = order.u32(page, off + 4).ok_or("truncated off-page item")? as usize;
    let total = order.u32(page, off + 8).ok_or("truncated off-page item")? as usize;
    if total > MAX_VALUE {
        return Err(format!("off-page value of {total} bytes exceeds the limit"));
    }
    let mut value = Vec::with_capacity(total);
    let mut hops = 0usize;
    let max_hops = db.len() / page_size + 1;
    while pgno != 0 && value.len() < total {
        hops += 1;
        if hops > max_hops {
            return Err("overflow chain loops".into());
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
        let len_here = usize::from(order.u16(p, 22).unwrap_or(0));
        let avail = page_size - PAGE_HEADER;
        let take = if next == 0 {
            len_here.min(avail)
        } else {
            avail
        };
        let take = take.min(total - value.len());
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
