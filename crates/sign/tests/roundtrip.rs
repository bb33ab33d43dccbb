//! Property tests through the public API: for random parameter maps, what is signed
//! verifies, the order parameters arrive in does not matter, and changing any one value
//! (or the secret) makes verification fail. Covers V1 and V3.

use std::collections::BTreeMap;

use openkms_sign::{
    EMPTY_PAYLOAD_SHA256, V1SigningKey, V3SigningKey, parse_authorization, v1_string_to_sign,
    v3_authorization, v3_canonical_request, v3_string_to_sign,
};
use proptest::prelude::*;

/// Arbitrary unicode, and short strings dense in the characters encodings get wrong.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-zA-Z0-9 *~+/=&%.é中😀_-]{0,12}"]
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map(text(), text(), 1..12)
        .prop_map(|m: BTreeMap<String, String>| m.into_iter().collect())
}

/// A map with a chosen index and a replacement value different from the one there.
fn params_and_change() -> impl Strategy<Value = (Vec<(String, String)>, usize, String)> {
    (params(), any::<prop::sample::Index>(), text()).prop_filter_map(
        "replacement equals the original",
        |(p, idx, new)| {
            let i = idx.index(p.len());
            (p[i].1 != new).then_some((p, i, new))
        },
    )
}

fn v3_sts(query: &[(String, String)]) -> String {
    let headers = [
        ("host", "127.0.0.1:8443"),
        ("x-acs-date", "2024-01-01T00:00:00Z"),
    ];
    let signed = ["host", "x-acs-date"];
    let creq = v3_canonical_request(
        "POST",
        "/",
        query,
        &headers[..],
        &signed,
        EMPTY_PAYLOAD_SHA256,
    );
    v3_string_to_sign(&creq)
}

proptest! {
    #[test]
    fn v1_sign_then_verify((p, i, new) in params_and_change(), secret in text()) {
        let key = V1SigningKey::new(secret.as_bytes());
        let sig = key.sign(&v1_string_to_sign("POST", &p));

        let mut reversed = p.clone();
        reversed.reverse();
        prop_assert!(key.verify(&v1_string_to_sign("POST", &reversed), &sig));

        let mut changed = p.clone();
        changed[i].1 = new;
        prop_assert!(!key.verify(&v1_string_to_sign("POST", &changed), &sig));
        prop_assert!(!key.verify(&v1_string_to_sign("GET", &p), &sig));
        let other = V1SigningKey::new(format!("{secret}x").as_bytes());
        prop_assert!(!other.verify(&v1_string_to_sign("POST", &p), &sig));
    }

    #[test]
    fn v1_signature_param_is_not_signed(p in params(), sig in text()) {
        let mut with_sig = p.clone();
        with_sig.push(("Signature".to_owned(), sig));
        let without: Vec<_> = p.iter().filter(|(k, _)| k != "Signature").collect();
        prop_assert_eq!(v1_string_to_sign("POST", &with_sig), v1_string_to_sign("POST", without));
    }

    #[test]
    fn v3_sign_then_verify((p, i, new) in params_and_change(), secret in text()) {
        let key = V3SigningKey::new(secret.as_bytes());
        let sig = key.sign(&v3_sts(&p));
        let header = v3_authorization("ak", &["host", "x-acs-date"], &sig);
        let auth = parse_authorization(&header).unwrap();
        prop_assert_eq!(auth.signature, sig.as_str());

        let mut reversed = p.clone();
        reversed.reverse();
        prop_assert!(key.verify(&v3_sts(&reversed), auth.signature));

        let mut changed = p.clone();
        changed[i].1 = new;
        prop_assert!(!key.verify(&v3_sts(&changed), auth.signature));
    }
}
