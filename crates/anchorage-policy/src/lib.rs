//! Anchore policy bundles: raw -> validated -> evaluated. Pure; no I/O.
