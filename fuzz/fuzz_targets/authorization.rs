//! The V3 `Authorization` header parser (`openkms_sign::parse_authorization`), on any text.
//!
//! Checks: no panic; what parses has a non-empty credential, non-empty signed header names
//! without `;` or `,`, and a 64-hex-digit signature; rendering it again
//! (`v3_authorization`) parses back to the same fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openkms_sign::{parse_authorization, v3_authorization};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(auth) = parse_authorization(text) else {
        return;
    };
    assert!(!auth.credential.is_empty() && !auth.credential.contains(','));
    assert!(!auth.signed_headers.is_empty());
    for name in &auth.signed_headers {
        assert!(!name.is_empty() && !name.contains([';', ',']));
        assert!(auth.signs(&name.to_ascii_lowercase()));
    }
    assert!(auth.signature.len() == 64 && auth.signature.bytes().all(|b| b.is_ascii_hexdigit()));
    let rendered = v3_authorization(auth.credential, &auth.signed_headers, auth.signature);
    assert_eq!(parse_authorization(&rendered), Ok(auth));
});
