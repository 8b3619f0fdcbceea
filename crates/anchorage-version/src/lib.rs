//! Version ordering per ecosystem and range evaluation. Pure; no I/O.
