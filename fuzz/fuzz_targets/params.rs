//! The query/form decoder (`openkms_api::rpc::Params`): a raw query string, a newline, a
//! form body.
//!
//! Checks: no panic; the pairs are exactly what `url::form_urlencoded` decodes, query pairs
//! first and in arrival order; `get` finds the first pair of a name; the typed getters agree
//! with `get`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openkms_api::rpc::Params;

fuzz_target!(|data: &[u8]| {
    let (query, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    let Ok(query) = std::str::from_utf8(query) else {
        return;
    };
    let params = Params::parse(Some(query), body);
    let mut expected: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(params.query_pairs().len(), expected.len());
    if let Some(body) = body {
        expected.extend(url::form_urlencoded::parse(body).into_owned());
    }
    let got: Vec<(&str, &str)> = params.pairs().collect();
    assert_eq!(got.len(), expected.len());
    for ((name, value), (want_name, want_value)) in got.iter().zip(&expected) {
        assert_eq!((*name, *value), (want_name.as_str(), want_value.as_str()));
    }
    for (name, _) in &expected {
        let first = expected
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        assert_eq!(params.get(name), first);
        let optional = params.optional(name);
        assert_eq!(optional, first.filter(|v| !v.is_empty()));
    }
    let _ = params.bool_or("DryRun", false);
    let _ = params.with_prefix("EncryptionContext.").count();
    let _ = format!("{params:?}");
});
