//! Runs the shared key-provider conformance suite on the PKCS#11 provider
//! (`ProtectionLevel=HSM` keys) over a real token: SoftHSM2 through
//! `scripts/softhsm-env.sh`, or any module and token named by `OPENKMS_TEST_PKCS11_*`. Without
//! one every check skips loudly (and fails when CI is set).
//!
//! The HSM's [`Profile`] differs from the software provider's where the custody does: AES-256
//! only of the symmetric specs, key pairs but no SM2, no import (BYOK into the token is not
//! served yet), and no per-message salt (the HSM ciphertext variant). The format itself is checked against RustCrypto in
//! `crates/pkcs11/tests/hsm_keys.rs`, with a key made extractable for that test only.

use std::sync::Arc;

use openkms_core::{OsRandom, SecureRandom};
use openkms_keys_tests::checks::Profile;
use openkms_pkcs11::{Pkcs11Provider, testing};

fn pkcs11() -> Option<Pkcs11Provider> {
    let rng: Arc<dyn SecureRandom> = Arc::new(OsRandom::new());
    Some(Pkcs11Provider::new(testing::token()?, rng))
}

openkms_keys_tests::conformance_tests!(optional pkcs11, Profile::HSM);
