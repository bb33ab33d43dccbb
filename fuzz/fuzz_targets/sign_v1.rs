//! Signature V1 canonicalisation (`openkms_sign::v1_*`): the input is a form-encoded list of
//! parameters, decoded as the server decodes a request.
//!
//! Checks: no panic; the StringToSign does not depend on the order the pairs arrived in;
//! undoing its outer percent-encoding and splitting it gives back every pair but
//! `Signature`, sorted, each name and value exactly; a signature made with a key verifies
//! through `verify_params` and a different one does not; the UTF-16 order gives the same
//! string whenever `v1_orders_may_differ` says it cannot differ.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use openkms_api::rpc::Params;
use openkms_fuzz::percent_decode;
use openkms_sign::{
    V1Order, V1SigningKey, v1_orders_may_differ, v1_string_to_sign, v1_string_to_sign_in,
};

fuzz_target!(|data: &[u8]| {
    let params = Params::parse(None, Some(data));
    let pairs: Vec<(&str, &str)> = params.pairs().collect();
    let sts = v1_string_to_sign("POST", pairs.iter().copied());
    let reversed = v1_string_to_sign("POST", pairs.iter().rev().copied());
    assert_eq!(sts, reversed, "the StringToSign depends on arrival order");
    check_decodes_back(&sts, &pairs);
    if !v1_orders_may_differ(pairs.iter().copied()) {
        let utf16 = v1_string_to_sign_in(V1Order::Utf16, "POST", pairs.iter().copied());
        assert_eq!(sts, utf16);
    }
    let (key, other) = keys();
    let signature = key.sign(&sts);
    assert!(
        key.verify_params("POST", pairs.iter().copied(), &signature)
            .is_ok()
    );
    assert!(
        other
            .verify_params("POST", pairs.iter().copied(), &signature)
            .is_err()
    );
});

/// The signing key, and another, made once.
fn keys() -> &'static (V1SigningKey, V1SigningKey) {
    static KEYS: OnceLock<(V1SigningKey, V1SigningKey)> = OnceLock::new();
    KEYS.get_or_init(|| {
        (
            V1SigningKey::new(b"testsecret"),
            V1SigningKey::new(b"othersecret"),
        )
    })
}

/// `METHOD&%2F&enc(a=enc(v)&...)`: decoding once gives `enc(name)=enc(value)` pairs joined
/// by `&` (encoded text holds neither `&` nor `=`), which decode to the sorted pairs.
fn check_decodes_back(sts: &str, pairs: &[(&str, &str)]) {
    let tail = sts
        .strip_prefix("POST&%2F&")
        .expect("the StringToSign prefix");
    let canonical = percent_decode(tail).expect("an encoded StringToSign decodes");
    let mut want: Vec<(&str, &str)> = pairs
        .iter()
        .copied()
        .filter(|(n, _)| *n != "Signature")
        .collect();
    want.sort_unstable();
    let got: Vec<(String, String)> = match canonical.is_empty() {
        true => Vec::new(),
        false => canonical
            .split('&')
            .map(|pair| {
                let (n, v) = pair.split_once('=').expect("name=value");
                (
                    percent_decode(n).expect("a name"),
                    percent_decode(v).expect("a value"),
                )
            })
            .collect(),
    };
    let got: Vec<(&str, &str)> = got.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_eq!(got, want);
}
