//! What several core integration tests share: [`CountingProvider`], the software key provider
//! counting the calls that reach it, so a test can tell whether the service generated or
//! loaded material (a refused create makes none; a warm key loads none), and holding its
//! generations back on request, so a test can fill the service's generation lane.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use openkms_core::*;

/// The software provider, counting the material it makes and the keys it loads.
pub struct CountingProvider {
    inner: SoftwareProvider,
    made: AtomicUsize,
    loaded: AtomicUsize,
    /// True while a test holds every generation back (after it is counted).
    held: Mutex<bool>,
    /// Wakes the held generations.
    released: Condvar,
}

/// Generations are held back while this lives ([`CountingProvider::hold`]).
#[allow(
    dead_code,
    reason = "each test binary compiles this module; not all of them hold"
)]
pub struct Hold<'a>(&'a CountingProvider);

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        *self.0.held.lock().unwrap_or_else(|p| p.into_inner()) = false;
        self.0.released.notify_all();
    }
}

impl CountingProvider {
    /// A counting software provider under `root`.
    pub fn new(root: Arc<dyn RootSeal>, rng: Arc<dyn SecureRandom>) -> Arc<Self> {
        Arc::new(Self {
            inner: SoftwareProvider::new(root, rng),
            made: AtomicUsize::new(0),
            loaded: AtomicUsize::new(0),
            held: Mutex::new(false),
            released: Condvar::new(),
        })
    }

    /// Holds every generation back, once counted, until the [`Hold`] is dropped.
    #[allow(
        dead_code,
        reason = "each test binary compiles this module; not all of them hold"
    )]
    pub fn hold(&self) -> Hold<'_> {
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = true;
        Hold(self)
    }

    /// How many keys were generated so far.
    pub fn made(&self) -> usize {
        self.made.load(Ordering::SeqCst)
    }

    /// How many stored keys were loaded so far.
    pub fn loaded(&self) -> usize {
        self.loaded.load(Ordering::SeqCst)
    }
}

impl KeyProvider for CountingProvider {
    fn name(&self) -> &'static str {
        "counting"
    }

    fn generate(
        &self,
        spec: KeySpec,
        usage: KeyUsage,
        bind: &KeyBinding<'_>,
    ) -> Result<StoredKey, KmsError> {
        self.made.fetch_add(1, Ordering::SeqCst);
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        drop(self.released.wait_while(held, |held| *held));
        self.inner.generate(spec, usage, bind)
    }

    fn import(
        &self,
        spec: KeySpec,
        material: SecretBytes,
        bind: &KeyBinding<'_>,
    ) -> Result<StoredKey, KmsError> {
        self.inner.import(spec, material, bind)
    }

    fn load(
        &self,
        spec: KeySpec,
        stored: &StoredKey,
        bind: &KeyBinding<'_>,
    ) -> Result<LoadedKey, KmsError> {
        self.loaded.fetch_add(1, Ordering::SeqCst);
        self.inner.load(spec, stored, bind)
    }
}
