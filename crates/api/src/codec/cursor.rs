//! Opaque listing cursors on the wire: RAM's `Marker` and ListTagResources' `NextToken`.
//!
//! A cursor names the last entry of the page it follows (a keyset position, not an offset):
//! a kind, then the entry's identifying strings, written as a JSON array and encoded
//! base64url without padding, so a client sees an opaque token. A token that does not decode
//! to the kind and number of parts the listing expects is refused as `InvalidParameter`
//! (the caller names the parameter). Offsets from older builds (a decimal `Marker`) are not
//! honoured: they decode to no cursor and are refused the same way.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longest token accepted (a cursor holds at most a few names of bounded length).
const MAX_TOKEN: usize = 4096;

/// The token of a cursor of `kind` naming the entry `parts`.
pub fn encode(kind: &str, parts: &[&str]) -> String {
    let mut all = Vec::with_capacity(parts.len() + 1);
    all.push(kind);
    all.extend_from_slice(parts);
    let json = serde_json::to_vec(&all).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// The parts of a token of `kind` with exactly `n` parts after the kind; `None` if it is
/// anything else.
pub fn decode(token: &str, kind: &str, n: usize) -> Option<Vec<String>> {
    if token.len() > MAX_TOKEN {
        return None;
    }
    let json = URL_SAFE_NO_PAD.decode(token).ok()?;
    let mut parts: Vec<String> = serde_json::from_slice(&json).ok()?;
    if parts.len() != n + 1 || parts.first().map(String::as_str) != Some(kind) {
        return None;
    }
    parts.remove(0);
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_any_text() {
        let token = encode("t", &["key-1", "a \"tag\"\n\u{e9}"]);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let parts = decode(&token, "t", 2);
        assert_eq!(
            parts,
            Some(vec!["key-1".to_owned(), "a \"tag\"\n\u{e9}".to_owned()])
        );
    }

    #[test]
    fn other_tokens_are_refused() {
        let token = encode("u", &["alice"]);
        assert_eq!(decode(&token, "t", 1), None, "another kind");
        assert_eq!(decode(&token, "u", 2), None, "another number of parts");
        for bad in ["10", "not-a-marker", "", "%%%", &"A".repeat(MAX_TOKEN + 4)] {
            assert_eq!(decode(bad, "u", 1), None, "{bad:.20}");
        }
    }
}
