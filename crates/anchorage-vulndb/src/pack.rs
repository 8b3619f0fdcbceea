//! Record bodies are stored zstd-compressed; the contexts are reused across records.

/// Largest decompressed record body read back from the store.
pub(crate) const MAX_BODY_BYTES: u64 = 64 << 20;

/// Compress a record body with zstd (bodies are JSON; this cuts the store to about a third).
/// The compression context is reused across records: a fresh context per record cost more
/// than the compression itself.
pub(crate) fn pack(c: &mut Option<zstd::bulk::Compressor<'static>>, body: &str) -> Vec<u8> {
    if c.is_none() {
        *c = zstd::bulk::Compressor::new(3).ok();
    }
    match c.as_mut().map(|c| c.compress(body.as_bytes())) {
        Some(Ok(v)) => v,
        // Without a context (allocation failure) fall back to the one-shot API.
        _ => zstd::bulk::compress(body.as_bytes(), 3).unwrap_or_default(),
    }
}

/// Inverse of [`pack`], reusing the decompression context. Errors on damaged or truncated
/// bodies and on bodies larger than [`MAX_BODY_BYTES`].
pub(crate) fn unpack(
    d: &mut Option<zstd::bulk::Decompressor<'static>>,
    bytes: &[u8],
) -> Result<String, String> {
    if d.is_none() {
        *d = Some(zstd::bulk::Decompressor::new().map_err(|e| e.to_string())?);
    }
    let limit = usize::try_from(MAX_BODY_BYTES).unwrap_or(usize::MAX);
    let out = match d.as_mut() {
        Some(d) => d.decompress(bytes, limit).map_err(|e| e.to_string())?,
        None => return Err("no zstd context".into()),
    };
    String::from_utf8(out).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_pack_round_trip_and_damaged_bodies() {
        let mut c = None;
        let mut d = None;
        let big = "x".repeat(200_000);
        for body in ["{}", "{\"id\":\"A\"}", big.as_str()] {
            let packed = pack(&mut c, body);
            assert_eq!(unpack(&mut d, &packed).unwrap(), body);
        }
        let packed = pack(&mut c, &big);
        assert!(unpack(&mut d, &packed[..packed.len() / 2]).is_err());
        assert!(unpack(&mut d, b"not zstd at all").is_err());
    }
}
