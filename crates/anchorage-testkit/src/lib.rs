//! Dev-only test support: a loopback `docker-registry`, a token endpoint, corpus image builders.
