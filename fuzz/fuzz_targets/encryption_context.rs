//! EncryptionContext in its three wire forms (`openkms_api::codec::request::json_context`):
//! the input is a form-encoded body, so `EncryptionContext={json}`,
//! `EncryptionContext.k=v` and `EncryptionContext.1.Key=k&EncryptionContext.1.Value=v` all
//! come up, alone and mixed.
//!
//! Checks: no panic; an accepted context is at most `MAX_CONTEXT_BYTES` in canonical form,
//! and sent again as JSON, as numbered pairs, and (when its keys cannot be mistaken for
//! numbered pairs) flattened, it decodes to the same map.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openkms_api::codec::request::{canonical_index, encryption_context};
use openkms_api::rpc::Params;
use openkms_core::EncryptionContext;
use openkms_core::context::MAX_CONTEXT_BYTES;

fuzz_target!(|data: &[u8]| {
    let params = Params::parse(None, Some(data));
    let Ok(context) = encryption_context(&params) else {
        return;
    };
    let canonical = context.canonical_bytes();
    assert!(canonical.len() <= MAX_CONTEXT_BYTES);
    let json = String::from_utf8(canonical).expect("canonical JSON is UTF-8");
    assert_eq!(sent(vec![("EncryptionContext".into(), json)]), context);
    let numbered = context.entries().enumerate().flat_map(|(i, (k, v))| {
        [
            (format!("EncryptionContext.{}.Key", i + 1), k.to_owned()),
            (format!("EncryptionContext.{}.Value", i + 1), v.to_owned()),
        ]
    });
    assert_eq!(sent(numbered.collect()), context);
    if !context.entries().all(|(k, _)| looks_numbered(k)) {
        let flat = context
            .entries()
            .map(|(k, v)| (format!("EncryptionContext.{k}"), v.to_owned()));
        assert_eq!(sent(flat.collect()), context);
    }
});

fn sent(pairs: Vec<(String, String)>) -> EncryptionContext {
    encryption_context(&Params::from_pairs(pairs)).expect("a context sent again decodes")
}

/// `<canonical index>.Key` or `<canonical index>.Value`: such keys, all together, read as
/// numbered pairs (the documented exception).
fn looks_numbered(key: &str) -> bool {
    key.split_once('.')
        .is_some_and(|(i, half)| canonical_index(i).is_some() && (half == "Key" || half == "Value"))
}
