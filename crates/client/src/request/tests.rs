//! Request construction: what `prepare` builds verifies with `openkms-sign`.

use super::*;
use openkms_sign::v1_verify;
use percent_encoding::percent_decode_str;
use serde_json::Value;

const V1_VECTORS: &str = include_str!("../../../../testdata/signatures/v1.json");

fn identity(key: &V1SigningKey) -> Identity<'_> {
    Identity {
        access_key_id: "testakid",
        region_id: "cn-hangzhou",
        key,
    }
}

fn key() -> V1SigningKey {
    V1SigningKey::new(b"testsecret")
}

/// Form-decodes `k=v&…` (`+` is a space).
fn decode(encoded: &str) -> Vec<(String, String)> {
    let dec = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .unwrap()
            .into_owned()
    };
    encoded
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
        .map(|(k, v)| (dec(k), dec(v)))
        .collect()
}

/// Every parameter sent, query then body, as the server would merge them.
fn sent_params(req: &PreparedRequest) -> Vec<(String, String)> {
    let query = req.path_and_query.strip_prefix("/?").unwrap_or("");
    let mut params = decode(query);
    params.extend(decode(req.form_body.as_deref().unwrap_or("")));
    params
}

fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// What a server does: recompute over everything but `Signature` and compare.
fn server_verifies(req: &PreparedRequest, secret: &[u8]) -> bool {
    let params = sent_params(req);
    let sts = v1_string_to_sign(req.method.as_str(), &params);
    assert_eq!(sts, req.string_to_sign);
    get(&params, "Signature").is_some_and(|sig| v1_verify(secret, &sts, sig))
}

#[test]
fn reproduces_the_spec_vector() {
    let key = key();
    let req = RawRequest {
        timestamp: Some("2024-01-01T00:00:00Z".into()),
        nonce: Some("3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf".into()),
        ..RawRequest::new("Encrypt")
            .param("KeyId", "alias/test_key-1")
            .param("Plaintext", "aGVsbG8gd29ybGQ=")
            .param("EncryptionContext", r#"{"purpose":"test a*b~c"}"#)
    };
    let prepared = prepare(&identity(&key), req).unwrap();
    let doc: Value = serde_json::from_str(V1_VECTORS).unwrap();
    let vector = &doc["vectors"][0];
    assert_eq!(vector["name"], "spec-2.3-encrypt");
    assert_eq!(
        prepared.string_to_sign,
        vector["string_to_sign"].as_str().unwrap()
    );
    assert!(
        prepared
            .path_and_query
            .ends_with("&Signature=BfsrEjlT9afT14bqAhh6ld6u%2F1Q%3D")
    );
    assert!(
        prepared
            .path_and_query
            .contains("EncryptionContext=%7B%22purpose%22%3A%22test%20a%2Ab~c%22%7D")
    );
    assert_eq!(prepared.form_body, None);
}

#[test]
fn default_request_is_complete_and_verifies() {
    let key = key();
    let prepared = prepare(
        &identity(&key),
        RawRequest::new("CreateKey").param("Description", "a b+c/é"),
    )
    .unwrap();
    assert_eq!(prepared.method, HttpMethod::Post);
    let params = sent_params(&prepared);
    let expect = [
        ("Action", "CreateKey"),
        ("Version", "2016-01-20"),
        ("Format", "JSON"),
        ("RegionId", "cn-hangzhou"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureType", ""),
        ("AccessKeyId", "testakid"),
        ("Description", "a b+c/é"),
    ];
    for (name, value) in expect {
        assert_eq!(get(&params, name), Some(value), "{name}");
    }
    let nonce = get(&params, "SignatureNonce").unwrap();
    assert!(
        nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit()),
        "{nonce}"
    );
    let ts = get(&params, "Timestamp").unwrap();
    assert!(
        time::PrimitiveDateTime::parse(
            ts,
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")
        )
        .is_ok(),
        "{ts}"
    );
    assert!(server_verifies(&prepared, b"testsecret"));
    assert!(!server_verifies(&prepared, b"othersecret"));
    let names: Vec<&str> = prepared.headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["x-acs-action", "x-acs-version", "accept", "user-agent"]
    );
}

#[test]
fn nonces_differ() {
    let key = key();
    let a = prepare(&identity(&key), RawRequest::new("X")).unwrap();
    let b = prepare(&identity(&key), RawRequest::new("X")).unwrap();
    assert_ne!(
        get(&sent_params(&a), "SignatureNonce"),
        get(&sent_params(&b), "SignatureNonce")
    );
}

#[test]
fn placements_and_methods_verify() {
    let key = key();
    for placement in [
        ParamPlacement::Query,
        ParamPlacement::BusinessInBody,
        ParamPlacement::AllInBody,
    ] {
        for method in [HttpMethod::Get, HttpMethod::Post] {
            let req = RawRequest {
                method,
                placement,
                ..RawRequest::new("CreateSecret").param("SecretData", "p@ss w+rd/é")
            };
            let prepared = prepare(&identity(&key), req).unwrap();
            assert!(prepared.string_to_sign.starts_with(method.as_str()));
            assert!(
                server_verifies(&prepared, b"testsecret"),
                "{placement:?} {method:?}"
            );
            let body = prepared.form_body.as_deref().unwrap_or("");
            match placement {
                ParamPlacement::Query => assert!(prepared.path_and_query.contains("SecretData=")),
                ParamPlacement::BusinessInBody => {
                    assert!(body.starts_with("SecretData=") && !body.contains("Signature="));
                    assert!(prepared.path_and_query.contains("&Signature="));
                }
                ParamPlacement::AllInBody => {
                    assert_eq!(prepared.path_and_query, "/");
                    assert!(body.contains("&Signature="));
                }
            }
        }
    }
}

#[test]
fn overrides() {
    let key = key();
    let req = RawRequest {
        access_key_id: Some("otherak".into()),
        signing_secret: Some(AccessKeySecret::new("wrong")),
        extra_params: vec![("Extra".into(), "1".into())],
        omit_params: vec!["Timestamp".into(), "RegionId".into()],
        extra_headers: vec![("x-test".into(), "y".into())],
        ..RawRequest::new("DescribeKey")
    };
    let prepared = prepare(&identity(&key), req).unwrap();
    let params = sent_params(&prepared);
    assert_eq!(get(&params, "AccessKeyId"), Some("otherak"));
    assert_eq!(get(&params, "Extra"), Some("1"));
    assert_eq!(get(&params, "Timestamp"), None);
    assert_eq!(get(&params, "RegionId"), None);
    assert!(server_verifies(&prepared, b"wrong"));
    assert!(!server_verifies(&prepared, b"testsecret"));
    assert!(prepared.headers.contains(&("x-test".into(), "y".into())));
}

#[test]
fn signature_modes() {
    let key = key();
    let omit = RawRequest {
        signature: SignatureMode::Omit,
        ..RawRequest::new("X")
    };
    let prepared = prepare(&identity(&key), omit).unwrap();
    assert_eq!(get(&sent_params(&prepared), "Signature"), None);
    let fixed = RawRequest {
        signature: SignatureMode::Fixed("abc=".into()),
        ..RawRequest::new("X")
    };
    let prepared = prepare(&identity(&key), fixed).unwrap();
    assert_eq!(get(&sent_params(&prepared), "Signature"), Some("abc="));
}

#[test]
fn empty_region_is_not_sent() {
    let key = key();
    let id = Identity {
        region_id: "",
        ..identity(&key)
    };
    let prepared = prepare(&id, RawRequest::new("X")).unwrap();
    assert_eq!(get(&sent_params(&prepared), "RegionId"), None);
    assert!(server_verifies(&prepared, b"testsecret"));
}

#[test]
fn timestamp_format() {
    let t = time::macros::datetime!(2026-11-23 19:52:52.987 +08:00);
    assert_eq!(timestamp(t), "2026-11-23T11:52:52Z");
}
