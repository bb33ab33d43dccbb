//! Opaque listing cursors on the wire: RAM's `Marker` and ListTagResources' `NextToken`.
//!
//! A cursor names a position in a listing (a keyset position, not an offset): the identifying
//! strings of the last entry read, written as a JSON array, sealed by the key service under a
//! key derived from the root key with the listing's kind bound to it
//! (`KeyService::seal_cursor`), and encoded base64url without padding. A client can read
//! nothing from a token (not even the name of an entry it may not see) and cannot make one: a
//! token that does not open (forged, altered, truncated, another listing's, sealed under
//! another root key) or does not hold the number of parts the listing expects is refused as
//! `InvalidParameter` (the caller names the parameter). Tokens survive a restart and work on
//! every node sharing the root key. Offsets from older builds (a decimal `Marker`) and the
//! unsealed tokens of earlier builds are refused the same way.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openkms_core::KeyService;

/// Longest token accepted (a cursor holds at most a few names of bounded length).
const MAX_TOKEN: usize = 4096;

/// The token of a cursor of `kind` naming the entry `parts`.
pub fn encode(kms: &KeyService, kind: &str, parts: &[&str]) -> String {
    let json = serde_json::to_vec(parts).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(kms.seal_cursor(kind, &json))
}

/// The parts of a token of `kind` with exactly `n` parts; `None` if it is anything else.
pub fn decode(kms: &KeyService, token: &str, kind: &str, n: usize) -> Option<Vec<String>> {
    if token.len() > MAX_TOKEN {
        return None;
    }
    let sealed = URL_SAFE_NO_PAD.decode(token).ok()?;
    let json = kms.open_cursor(kind, &sealed)?;
    let parts: Vec<String> = serde_json::from_slice(&json).ok()?;
    (parts.len() == n).then_some(parts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use openkms_core::{OsRandom, RootKey, ServiceConfig, SystemClock};
    use openkms_store_sqlite::SqliteStore;

    use super::*;

    async fn service(dir: &tempfile::TempDir) -> KeyService {
        let store = Arc::new(SqliteStore::open(&dir.path().join("db")).unwrap());
        let rng = Arc::new(OsRandom::new());
        let root = RootKey::generate(rng.as_ref());
        let config = ServiceConfig {
            region_id: "cn-hangzhou".into(),
            account_id: None,
            cache_ttl_ms: None,
        };
        KeyService::open(store, root, Arc::new(SystemClock), rng, config)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn tokens_round_trip_any_text_and_reveal_none_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let kms = service(&dir).await;
        let token = encode(&kms, "t", &["key-1", "a \"tag\"\n\u{e9}"]);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let raw = URL_SAFE_NO_PAD.decode(&token).unwrap();
        assert!(!raw.windows(5).any(|w| w == b"key-1"), "sealed");
        let parts = decode(&kms, &token, "t", 2);
        assert_eq!(
            parts,
            Some(vec!["key-1".to_owned(), "a \"tag\"\n\u{e9}".to_owned()])
        );
    }

    #[tokio::test]
    async fn other_tokens_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let kms = service(&dir).await;
        let token = encode(&kms, "u", &["alice"]);
        assert_eq!(decode(&kms, &token, "t", 1), None, "another kind");
        assert_eq!(
            decode(&kms, &token, "u", 2),
            None,
            "another number of parts"
        );
        let mut altered = URL_SAFE_NO_PAD.decode(&token).unwrap();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        let altered = URL_SAFE_NO_PAD.encode(altered);
        // The unsealed form of earlier builds: base64url of ["u","alice"].
        let unsealed = URL_SAFE_NO_PAD.encode(br#"["u","alice"]"#);
        let other_dir = tempfile::tempdir().unwrap();
        let elsewhere = encode(&service(&other_dir).await, "u", &["alice"]);
        let long = "A".repeat(MAX_TOKEN + 4);
        for bad in [
            "10",
            "not-a-marker",
            "",
            "%%%",
            &long,
            &altered,
            &unsealed,
            &elsewhere,
        ] {
            assert_eq!(decode(&kms, bad, "u", 1), None, "{bad:.20}");
        }
    }
}
