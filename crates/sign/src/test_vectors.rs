//! Test support shared by the V1 and V3 known-answer tests: loading the vector files under
//! `testdata/signatures/` and turning a vector's parameters into decoded pairs.

use percent_encoding::percent_decode_str;
use serde_json::Value;

/// The `vectors` array of a known-answer file's JSON text.
pub(crate) fn load(json: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(json).unwrap();
    doc["vectors"].as_array().unwrap().clone()
}

/// Form decoding of a captured query: `+` is a space, then `%XX`.
pub(crate) fn decode_query(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let spaced = s.replace('+', " ");
        percent_decode_str(&spaced)
            .decode_utf8()
            .unwrap()
            .into_owned()
    };
    query
        .split('&')
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// A JSON array of `[name, value]` string pairs.
pub(crate) fn pairs(v: &Value) -> Vec<(String, String)> {
    let pair = |p: &Value| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into());
    v.as_array().unwrap().iter().map(pair).collect()
}

/// A vector's parameters: its captured `query` decoded, or else its `params` pairs.
pub(crate) fn query_params(v: &Value) -> Vec<(String, String)> {
    match v["query"].as_str() {
        Some(query) => decode_query(query),
        None => pairs(&v["params"]),
    }
}
