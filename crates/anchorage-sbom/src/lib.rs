//! CycloneDX 1.6, SPDX 2.3 and native JSON encoding of an analysis.
