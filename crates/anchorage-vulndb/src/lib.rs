//! Vulnerability feeds, the normalized advisory model and the local store.
