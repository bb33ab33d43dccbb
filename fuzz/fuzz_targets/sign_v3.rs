//! Signature V3 canonicalisation (`openkms_sign::v3_*`): the input is a request (see
//! `openkms_fuzz::RawRequest`); its `Authorization` header, when it parses, names the signed
//! headers, else every header present is signed.
//!
//! Checks: no panic; the canonical query does not depend on the order of the query pairs,
//! and decodes back to them sorted; the canonical request has one line per signed header and
//! ends with the payload hash; a signature made with a key verifies and a different one does
//! not; the `Authorization` value rendered for the parsed fields parses back to them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openkms_api::rpc::Params;
use openkms_fuzz::{RawRequest, percent_decode};
use openkms_sign::{
    V3SigningKey, parse_authorization, sha256_hex, v3_authorization, v3_canonical_query,
    v3_canonical_request, v3_string_to_sign, v3_verify,
};

fuzz_target!(|data: &[u8]| {
    let Some(request) = RawRequest::parse(data) else {
        return;
    };
    let params = Params::from_query(request.query);
    let query: Vec<(&str, &str)> = params.query_pairs().collect();
    let canonical_query = v3_canonical_query(query.iter().copied());
    assert_eq!(
        canonical_query,
        v3_canonical_query(query.iter().rev().copied())
    );
    check_query_decodes_back(&canonical_query, &query);
    let parsed = request
        .header("authorization")
        .and_then(|a| parse_authorization(a).ok());
    let all: Vec<&str> = request
        .headers
        .keys()
        .map(http::HeaderName::as_str)
        .collect();
    let signed: Vec<&str> = parsed.as_ref().map_or(all, |a| a.signed_headers.clone());
    let hash = sha256_hex(request.body);
    let canonical = v3_canonical_request(
        request.method,
        "/",
        query.iter().copied(),
        &request.headers,
        &signed,
        &hash,
    );
    assert!(canonical.ends_with(&hash));
    assert!(canonical.split('\n').count() >= 6 + signed.len());
    let sts = v3_string_to_sign(&canonical);
    let signature = V3SigningKey::new(b"testsecret").sign(&sts);
    assert!(v3_verify(b"testsecret", &sts, &signature));
    assert!(!v3_verify(b"othersecret", &sts, &signature));
    if let Some(auth) = parsed {
        let rendered = v3_authorization(auth.credential, &auth.signed_headers, auth.signature);
        assert_eq!(parse_authorization(&rendered), Ok(auth));
    }
});

fn check_query_decodes_back(canonical: &str, query: &[(&str, &str)]) {
    let mut want = query.to_vec();
    want.sort_unstable();
    if canonical.is_empty() {
        assert!(want.is_empty());
        return;
    }
    let got: Vec<(String, String)> = canonical
        .split('&')
        .map(|pair| {
            let (n, v) = pair.split_once('=').expect("name=value");
            (
                percent_decode(n).expect("a name"),
                percent_decode(v).expect("a value"),
            )
        })
        .collect();
    let got: Vec<(&str, &str)> = got.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_eq!(got, want);
}
