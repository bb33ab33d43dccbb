//! Runs the shared key-provider conformance suite on the core's [`SoftwareProvider`], over a
//! fresh random root key per check.

use std::sync::Arc;

use openkms_core::{OsRandom, RootKey, SecureRandom, SoftwareProvider};

fn software() -> SoftwareProvider {
    let rng: Arc<dyn SecureRandom> = Arc::new(OsRandom::new());
    let root = Arc::new(RootKey::generate(rng.as_ref()));
    SoftwareProvider::new(root, rng)
}

openkms_keys_tests::conformance_tests!(software);
