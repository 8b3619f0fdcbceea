//! Docker image references. Owned by the Foundation work (issue 2): grammar, normalization and
//! Anchore's display form are implemented here.
