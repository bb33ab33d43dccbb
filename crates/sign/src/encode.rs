//! RFC 3986 percent-encoding as both signature schemes use it (spec §2.2), and lowercase
//! hex.
//!
//! Owns: which bytes stay as they are (`A-Z a-z 0-9 - _ . ~`), the uppercase `%XX` form and
//! the "encode twice" shortcut that V1 needs. Both schemes sort parameters by their raw
//! names, before encoding (`v1.rs`, `v3.rs`). Does not own decoding of wire query strings
//! (`+` as space): that is the server's parameter parser.

/// `true` for the RFC 3986 unreserved bytes, which are never escaped.
static UNRESERVED: [bool; 256] = unreserved_table();

const fn unreserved_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~');
        b += 1;
    }
    table
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

#[inline]
fn is_unreserved(b: u8) -> bool {
    UNRESERVED[usize::from(b)]
}

/// Percent-encodes `s` as RFC 3986 with uppercase hex, over its UTF-8 bytes.
///
/// Space becomes `%20` (never `+`), `*` becomes `%2A`, `~` stays.
///
/// ```
/// assert_eq!(openkms_sign::percent_encode("a b*~/é"), "a%20b%2A~%2F%C3%A9");
/// ```
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(encoded_len(s, 3));
    percent_encode_into(&mut out, s);
    out
}

/// Appends the RFC 3986 encoding of `s` to `out` (see [`percent_encode`]).
pub fn percent_encode_into(out: &mut String, s: &str) {
    encode_with_prefix(out, s, "%");
}

/// Appends `percent_encode(percent_encode(s))` to `out` in one pass: an escaped byte
/// becomes `%25XX`, since the `%` of the first pass is itself escaped by the second.
pub(crate) fn double_encode_into(out: &mut String, s: &str) {
    encode_with_prefix(out, s, "%25");
}

/// Length of the encoding of `s` when each escaped byte takes `escaped_width` characters.
pub(crate) fn encoded_len(s: &str, escaped_width: usize) -> usize {
    s.bytes()
        .map(|b| if is_unreserved(b) { 1 } else { escaped_width })
        .sum()
}

fn encode_with_prefix(out: &mut String, s: &str, prefix: &str) {
    let bytes = s.as_bytes();
    let mut run_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if is_unreserved(b) {
            continue;
        }
        // A non-empty run is ASCII and is followed by the start of a char, so both of its
        // ends are char boundaries (an empty run may sit inside a multi-byte char).
        if run_start < i {
            out.push_str(&s[run_start..i]);
        }
        out.push_str(prefix);
        out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(b & 0x0f)]));
        run_start = i + 1;
    }
    if run_start < bytes.len() {
        out.push_str(&s[run_start..]);
    }
}

/// Appends the lowercase hex of `bytes` to `out`.
pub(crate) fn hex_lower_into(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        out.push(char::from(HEX_LOWER[usize::from(b >> 4)]));
        out.push(char::from(HEX_LOWER[usize::from(b & 0x0f)]));
    }
}

/// Writes the lowercase hex of `bytes` into `buf` and returns the written part, or `None`
/// when `buf` is too small. Lets verification avoid a heap allocation.
pub(crate) fn hex_lower_in<'b>(bytes: &[u8], buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let out = buf.get_mut(..bytes.len() * 2)?;
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX_LOWER[usize::from(b >> 4)];
        pair[1] = HEX_LOWER[usize::from(b & 0x0f)];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    use proptest::prelude::*;

    /// An independent reference: the `percent-encoding` crate with the RFC 3986 set.
    const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');

    fn reference(s: &str) -> String {
        utf8_percent_encode(s, RFC3986).to_string()
    }

    #[test]
    fn spec_examples() {
        assert_eq!(percent_encode(" "), "%20");
        assert_eq!(percent_encode("*"), "%2A");
        assert_eq!(percent_encode("~"), "~");
        assert_eq!(percent_encode("/=&+"), "%2F%3D%26%2B");
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(percent_encode(""), "");
        assert_eq!(percent_encode("Az09-_.~"), "Az09-_.~");
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "[a-zA-Z0-9 *~+/=&%.é中😀_-]{0,12}"]
    }

    proptest! {
        #[test]
        fn matches_reference(s in text()) {
            prop_assert_eq!(percent_encode(&s), reference(&s));
            prop_assert_eq!(encoded_len(&s, 3), reference(&s).len());
        }

        #[test]
        fn double_is_encode_twice(s in text()) {
            let mut once = String::new();
            double_encode_into(&mut once, &s);
            prop_assert_eq!(once, percent_encode(&percent_encode(&s)));
        }
    }

    #[test]
    fn hex_helpers_agree() {
        let mut s = String::new();
        hex_lower_into(&mut s, &[0x00, 0xab, 0x7f]);
        assert_eq!(s, "00ab7f");
        let mut buf = [0u8; 6];
        assert_eq!(
            hex_lower_in(&[0x00, 0xab, 0x7f], &mut buf),
            Some(&b"00ab7f"[..])
        );
        assert_eq!(hex_lower_in(&[0; 4], &mut buf), None);
    }
}
