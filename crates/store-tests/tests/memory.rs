//! The in-memory store ([`openkms_store_tests::memory::MemoryStore`]) runs the whole
//! conformance suite, like the SQLite and PostgreSQL backends.
//!
//! Nothing is skipped: one mutex makes every call atomic, so the concurrency checks hold, and
//! "reopening" hands out a clone over the same maps, so the durability checks check the
//! factory contract (a reopen sees every acknowledged write) rather than a disk.

use openkms_store_tests::StoreFactory;
use openkms_store_tests::memory::MemoryStore;

/// Opens clones of one in-memory store.
#[derive(Default)]
struct MemoryFactory(MemoryStore);

impl StoreFactory for MemoryFactory {
    type Store = MemoryStore;

    async fn open(&self) -> MemoryStore {
        self.0.clone()
    }
}

async fn factory() -> MemoryFactory {
    MemoryFactory::default()
}

openkms_store_tests::conformance_tests!(factory);
