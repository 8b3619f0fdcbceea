//! Integration tests of `anchorage-catalog`, one binary (issue 9: fewer links on 2 cores).

mod lang_accuracy;
mod lang_binary;
mod lang_breadth;
mod lang_fidelity;
mod lang_fuzz_smoke;
mod lang_go_rust;
mod lang_java;
mod lang_python_locks;
mod lang_python_npm;
mod lang_ruby_dotnet_php;
mod lang_single_walk;
mod lang_support;
mod os_analysis;
mod os_breadth;
mod os_mutation;
mod os_packages;
mod os_rpm;
mod relationships;
#[allow(clippy::unwrap_used)] // test fixture builder: failures should fail loudly
#[path = "../fixtures/rpm/rpmdb_build.rs"]
mod rpmdb_build;
