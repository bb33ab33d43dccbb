//! Request values several decoders share: a context map in any of its wire forms (JSON,
//! flattened, numbered pairs) and the base64 CiphertextBlob.

use base64::Engine as _;
use openkms_core::{EncryptionContext, Field, InvalidReason, KmsError};
use std::collections::{BTreeMap, BTreeSet};

use crate::rpc::{Params, RpcError};

/// Standard base64 with padding, as the API uses for blobs and binary values.
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The `EncryptionContext` of a request in any wire form (see [`json_context`]); empty when
/// absent.
pub fn encryption_context(params: &Params) -> Result<EncryptionContext, RpcError> {
    json_context(params, "EncryptionContext")
}

/// A context parameter named `name` (`EncryptionContext`, ReEncrypt's
/// `SourceEncryptionContext` and `DestinationEncryptionContext`: the maps of Appendix A) in
/// any of its wire forms, all equal: JSON (`name={"k":"v"}`, the Python and Go SDKs),
/// flattened (`name.k=v`, the npm SDK), numbered pairs (`name.1.Key=k&name.1.Value=v`, in
/// any numbering, as aliyungo sends maps), or JSON merged with one of the other two.
///
/// Telling flattened from numbered: the numbered form is recognised only when *every*
/// `name.*` parameter is `name.<index>.Key` or `name.<index>.Value` with a canonical decimal
/// index (`0`, `1`, … `10`; no leading zero). A context whose keys all look like that cannot
/// be sent flattened (send it as JSON); any other flattened context, even one with a key
/// `1.Key` beside other keys, is read as flattened. A numbered set with a Key and no Value,
/// a Value and no Key, an index given twice or a key given twice is `InvalidParameter`.
pub fn json_context(params: &Params, name: &str) -> Result<EncryptionContext, RpcError> {
    let json = params.optional(name).unwrap_or("");
    let prefix = format!("{name}.");
    let flat: Vec<(&str, &str)> = params.with_prefix(&prefix).collect();
    if flat.is_empty() {
        return Ok(EncryptionContext::from_json(json)?);
    }
    let entries = match numbered(&flat) {
        Some(numbered) => pairs(numbered)?,
        None => flat,
    };
    let mut map: BTreeMap<String, String> = EncryptionContext::from_json(json)?
        .entries()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    map.extend(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    Ok(EncryptionContext::from_map(map)?)
}

/// Which half of a numbered pair a parameter is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Half {
    Key,
    Value,
}

/// The flattened names as `(index, half, value)` when every one is `<index>.Key` or
/// `<index>.Value`; `None` when any is not (the map is flattened).
fn numbered<'a>(flat: &[(&str, &'a str)]) -> Option<Vec<(u32, Half, &'a str)>> {
    flat.iter()
        .map(|&(rest, value)| {
            let (index, half) = rest.split_once('.')?;
            let half = match half {
                "Key" => Half::Key,
                "Value" => Half::Value,
                _ => return None,
            };
            Some((canonical_index(index)?, half, value))
        })
        .collect()
}

/// The `(key, value)` entries of numbered pairs, each index with exactly one Key and one
/// Value and no key twice; anything else is a malformed map. Sorted, then checked against an
/// ordered set of the keys seen: O(n log n) for n pairs.
fn pairs(mut numbered: Vec<(u32, Half, &str)>) -> Result<Vec<(&str, &str)>, RpcError> {
    let malformed = || KmsError::invalid(Field::EncryptionContext, InvalidReason::BadFormat);
    numbered.sort_by_key(|&(index, half, _)| (index, half == Half::Value));
    let mut entries: Vec<(&str, &str)> = Vec::with_capacity(numbered.len() / 2);
    let mut keys = BTreeSet::new();
    for pair in numbered.chunks(2) {
        let [(i, Half::Key, key), (j, Half::Value, value)] = *pair else {
            return Err(malformed().into());
        };
        if i != j || !keys.insert(key) {
            return Err(malformed().into());
        }
        entries.push((key, value));
    }
    Ok(entries)
}

/// `text` as an index if it is canonical decimal that fits a `u32`: `0`, or a digit 1-9
/// followed by digits (the rule of the repeat lists, so one index names one pair).
pub fn canonical_index(text: &str) -> Option<u32> {
    let canonical = match text.as_bytes() {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    canonical.then(|| text.parse().ok()).flatten()
}

/// Decodes a CiphertextBlob; bad base64 is the same error as a bad blob.
pub fn decode_blob(text: &str) -> Result<Vec<u8>, RpcError> {
    B64.decode(text.trim())
        .map_err(|_| RpcError::Kms(KmsError::InvalidCiphertext))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(pairs: &[(&str, &str)]) -> Result<Vec<(String, String)>, RpcError> {
        let pairs = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into()));
        let ctx = encryption_context(&Params::from_pairs(pairs.collect()))?;
        Ok(ctx.entries().map(|(k, v)| (k.into(), v.into())).collect())
    }

    fn expected(entries: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<_> = entries
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn the_three_forms_are_equal_in_any_numbering() {
        let want = expected(&[("a/b", "1"), ("名前", "x y")]);
        let json = context(&[("EncryptionContext", r#"{"名前":"x y","a/b":"1"}"#)]);
        assert_eq!(json.unwrap(), want);
        let flat = [
            ("EncryptionContext.a/b", "1"),
            ("EncryptionContext.名前", "x y"),
        ];
        assert_eq!(context(&flat).unwrap(), want);
        let numbered = [
            ("EncryptionContext.2.Value", "1"),
            ("EncryptionContext.1.Key", "名前"),
            ("EncryptionContext.10.Key", "unused"),
        ];
        assert!(context(&numbered).is_err());
        for (i, j) in [("1", "2"), ("2", "1"), ("0", "10")] {
            let pairs = [
                (format!("EncryptionContext.{i}.Key"), "a/b"),
                (format!("EncryptionContext.{j}.Value"), "x y"),
                (format!("EncryptionContext.{j}.Key"), "名前"),
                (format!("EncryptionContext.{i}.Value"), "1"),
            ];
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            assert_eq!(context(&pairs).unwrap(), want, "{i} {j}");
        }
    }

    #[test]
    fn flattened_keys_that_look_numbered_stay_flattened() {
        let flat = [
            ("EncryptionContext.1.Key", "k"),
            ("EncryptionContext.other", "v"),
        ];
        assert_eq!(
            context(&flat).unwrap(),
            expected(&[("1.Key", "k"), ("other", "v")])
        );
        let non_canonical = [
            ("EncryptionContext.01.Key", "k"),
            ("EncryptionContext.01.Value", "v"),
        ];
        assert_eq!(
            context(&non_canonical).unwrap(),
            expected(&[("01.Key", "k"), ("01.Value", "v")])
        );
    }

    #[test]
    fn malformed_pairs_are_invalid_parameter() {
        let cases: [&[(&str, &str)]; 5] = [
            &[("EncryptionContext.1.Key", "k")],
            &[("EncryptionContext.1.Value", "v")],
            &[
                ("EncryptionContext.1.Key", "k"),
                ("EncryptionContext.1.Value", "v"),
                ("EncryptionContext.2.Key", "k"),
                ("EncryptionContext.2.Value", "w"),
            ],
            &[
                ("EncryptionContext.1.Key", "k"),
                ("EncryptionContext.1.Key", "j"),
                ("EncryptionContext.1.Value", "v"),
            ],
            &[
                ("EncryptionContext.1.Key", "k"),
                ("EncryptionContext.2.Value", "v"),
            ],
        ];
        for case in cases {
            let err = context(case).unwrap_err();
            assert_eq!(err.wire().code, "InvalidParameter", "{case:?}");
        }
    }

    #[test]
    fn json_merges_with_numbered_pairs() {
        let merged = [
            ("EncryptionContext", r#"{"a":"1"}"#),
            ("EncryptionContext.1.Key", "b"),
            ("EncryptionContext.1.Value", "2"),
        ];
        assert_eq!(
            context(&merged).unwrap(),
            expected(&[("a", "1"), ("b", "2")])
        );
    }
}
