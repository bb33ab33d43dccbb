//! openkms-keys-tests: the one conformance suite every key provider runs.
//!
//! A provider's integration test writes a function that makes a fresh provider and invokes
//! [`conformance_tests!`], which expands to one named `#[test]` per check in [`checks`]. The
//! checks pin down the [`KeyProvider`](openkms_core::KeyProvider) contract: generate, load,
//! seal and open round trips for every symmetric spec; stored keys bound to their key and
//! version; tampered ciphertexts refused with the one undetailed error; imported material of
//! the wrong length refused; imported material interoperating with an independent
//! implementation ([`reference`]) and opening the reference blobs in `testdata/ciphertext`;
//! loaded keys shared between threads; key pairs signing, verifying, encrypting and
//! decrypting for every pair spec offered ([`pairs`]), and refused where not offered. Where providers legitimately differ (an HSM offers
//! fewer specs and imports nothing), a [`checks::Profile`] says so and the checks cover what is
//! offered and check that the rest is refused.
//!
//! This crate owns the checks and the independent reference implementation. It knows no
//! provider: everything it does goes through the `KeyProvider` trait.
#![deny(missing_docs)]

pub mod checks;
pub mod pairs;
pub mod reference;

/// Expands to one `#[test]` per conformance check, each named after its check.
///
/// The argument is an expression callable with no arguments that returns a fresh provider (a
/// sized type implementing `KeyProvider`), for example the path of a function; the checks
/// then assume [`checks::Profile::FULL`]. A provider that offers less names its profile, and
/// one that needs outside equipment (a PKCS#11 token) may return `Option<provider>` with
/// `optional`: `None` skips the check (the factory says why, loudly).
///
/// ```ignore
/// fn provider() -> MyProvider { MyProvider::new() }
/// openkms_keys_tests::conformance_tests!(provider);
/// fn token_provider() -> Option<HsmProvider> { /* None without a token */ }
/// openkms_keys_tests::conformance_tests!(optional token_provider, openkms_keys_tests::checks::Profile::HSM);
/// ```
#[macro_export]
macro_rules! conformance_tests {
    (optional $make:expr, $profile:expr) => {
        $crate::conformance_tests!(@list $make, $profile, optional);
    };
    ($make:expr) => {
        $crate::conformance_tests!(@list || Some(($make)()), $crate::checks::Profile::FULL, optional);
    };
    (@list $make:expr, $profile:expr, optional) => {
        $crate::conformance_tests!(@each $make, $profile;
            name_is_a_short_lowercase_word,
            generate_load_round_trip_every_spec,
            seal_appends_after_what_out_holds,
            generated_keys_differ,
            wrong_binding_fails_to_load,
            damaged_stored_key_fails_to_load,
            spec_mismatch_fails_to_load,
            tampering_fails_to_open,
            import_of_wrong_length_is_refused,
            imported_key_interoperates_with_the_reference,
            imported_key_opens_the_reference_blobs,
            loaded_keys_serve_many_threads,
        );
        $crate::conformance_tests!(@pairs $make, $profile;
            key_pairs_sign_and_verify,
            key_pairs_encrypt_and_decrypt,
            key_pair_bound_to_its_version_and_spec,
            key_pairs_not_offered_are_refused,
        );
    };
    (@pairs $make:expr, $profile:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                let Some(provider) = ($make)() else {
                    return;
                };
                $crate::pairs::$check(&provider, &$profile);
            }
        )*
    };
    (@each $make:expr, $profile:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                let Some(provider) = ($make)() else {
                    return;
                };
                $crate::checks::$check(&provider, &$profile);
            }
        )*
    };
}
