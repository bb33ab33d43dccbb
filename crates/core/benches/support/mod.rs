//! The benchmarks' in-memory [`openkms_core::Store`]: the one the service tests use
//! (`tests/support/memstore.rs`), so both run against the same contract.

#[path = "../../tests/support/memstore.rs"]
mod memstore;

pub use memstore::MemStore;
