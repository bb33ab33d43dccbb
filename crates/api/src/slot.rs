//! The key service behind the handler: present while the server is unsealed, absent while it
//! is sealed.
//!
//! A [`ServiceSlot`] holds the [`Engine`] (and through it the [`KeyService`]) in an
//! `ArcSwapOption`: a request takes its own reference with one atomic load and keeps it to the
//! end, so sealing never pulls the service from under a request in flight. Unsealing fills the
//! slot; sealing empties it, and the service — the root key, the key cache, every loaded key —
//! is dropped (and so wiped) once the last request holding it is done. Nothing else in the
//! process keeps a reference: the background work loads it from the slot for each pass.
//! Which seal puts the service there is not this module's business ([`crate::operator`] for
//! Shamir shares; the binary for a root key file).

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use openkms_core::KeyService;
use openkms_ops::Engine;

/// Where the key service lives while the server is unsealed.
#[derive(Default)]
pub struct ServiceSlot {
    current: ArcSwapOption<Engine>,
}

impl std::fmt::Debug for ServiceSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceSlot")
            .field("sealed", &self.is_sealed())
            .finish()
    }
}

impl ServiceSlot {
    /// An empty slot: the server is sealed.
    pub fn sealed() -> Self {
        Self::default()
    }

    /// A slot holding `service`: the server is unsealed.
    pub fn unsealed(service: Arc<KeyService>) -> Self {
        let slot = Self::default();
        slot.fill(service);
        slot
    }

    /// Puts `service` in the slot (unseals), replacing whatever was there.
    pub fn fill(&self, service: Arc<KeyService>) {
        self.current.store(Some(Arc::new(Engine::new(service))));
    }

    /// Empties the slot (seals); whether it held a service.
    pub fn empty(&self) -> bool {
        self.current.swap(None).is_some()
    }

    /// Whether the slot is empty.
    pub fn is_sealed(&self) -> bool {
        self.current.load().is_none()
    }

    /// The engine, while unsealed: a reference of the caller's own.
    pub fn engine(&self) -> Option<Arc<Engine>> {
        self.current.load_full()
    }

    /// The key service, while unsealed.
    pub fn service(&self) -> Option<Arc<KeyService>> {
        self.engine().map(|e| e.kms().clone())
    }
}
