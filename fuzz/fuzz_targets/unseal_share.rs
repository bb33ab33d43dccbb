//! An unseal share's text (`openkms_core::shamir::Share::parse`), which `POST
//! /openkms/operator/unseal` takes from anyone who reaches a sealed server.
//!
//! Checks: no panic; a text that parses is its own canonical form (`to_text` gives back the
//! trimmed input, so two texts never name one share), with an index of 1 to 255; its digest
//! is computed without panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openkms_core::shamir::Share;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(share) = Share::parse(text) else {
        return;
    };
    assert_ne!(share.index(), 0);
    let again = share.to_text();
    assert_eq!(again.expose_secret(), text.trim().as_bytes());
    let _ = share.digest();
});
