//! Bounded and unambiguous inputs, in process over HTTP: an over-long identifier or text is
//! 400 `InvalidParameter` naming it before any lookup or policy match, a parameter given twice
//! (query and body, or twice in one) is refused whatever its values, and neither changes
//! anything.
//!
//! Not here: the limits of each parameter (`codec::bounds`'s unit tests), the matcher's cost
//! (`core::policy::pattern`'s tests), the catalogue of every bad input (tests/e2e).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod support;

use openkms_client::{ClientError, ParamPlacement, RawRequest};
use openkms_core::{KeyRef, KmsError};
use support::{TestServer, Transport};

/// The status, code and message of a refused request, checking it carries a `RequestId`.
async fn refused(server: &TestServer, req: RawRequest) -> (u16, String, String) {
    match server.client.call_with(req).await {
        Err(ClientError::Api {
            status,
            code,
            request_id,
            message,
            ..
        }) => {
            assert!(!request_id.is_empty());
            (status, code, message)
        }
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn encrypt(key: &str) -> RawRequest {
    let mut req = RawRequest::new("Encrypt")
        .param("KeyId", key)
        .param("Plaintext", "aGk=");
    // Long values travel in the body, as a form.
    req.placement = ParamPlacement::BusinessInBody;
    req
}

#[tokio::test]
async fn an_overlong_key_id_is_invalid_parameter_before_any_lookup() {
    let server = TestServer::start(Transport::Http).await;
    let (status, code, message) = refused(&server, encrypt(&"k".repeat(60_000))).await;
    assert_eq!((status, code.as_str()), (400, "InvalidParameter"));
    assert!(
        message.contains("\"KeyId\"") && message.contains("512"),
        "{message}"
    );
    // The core refuses it too, for any front end (and for the lenient reading of a request
    // that did not decode, which falls back to the key container).
    let parsed = server.service.parse_key_ref(&"k".repeat(513));
    assert!(matches!(parsed, Err(KmsError::InvalidParameter { .. })));
    assert!(server.service.parse_key_ref(&"k".repeat(512)).is_ok());
}

#[tokio::test]
async fn overlong_names_and_texts_are_refused_with_their_name() {
    let server = TestServer::start(Transport::Http).await;
    let key = server.key().await;
    let long_entry = format!(r#"{{"k":"{}"}}"#, "v".repeat(4097));
    let cases = [
        (
            encrypt(&key).param("EncryptionContext", long_entry.as_str()),
            "EncryptionContext",
        ),
        (
            RawRequest::new("CreateAlias")
                .param("KeyId", &key)
                .param("AliasName", format!("alias/{}", "a".repeat(256))),
            "AliasName",
        ),
        (
            RawRequest::new("DescribeKey")
                .param("KeyId", &key)
                .param("EncryptionContext.1.Key", "x".repeat(5000)),
            "EncryptionContext",
        ),
    ];
    for (req, name) in cases {
        let (status, code, message) = refused(&server, req).await;
        assert_eq!((status, code.as_str()), (400, "InvalidParameter"), "{name}");
        assert!(message.contains(&format!("\"{name}\"")), "{message}");
    }
    let mut long_ak = RawRequest::new("ListKeys");
    long_ak.access_key_id = Some("A".repeat(200));
    let (status, code, message) = refused(&server, long_ak).await;
    assert_eq!((status, code.as_str()), (400, "InvalidParameter"));
    assert!(message.contains("\"AccessKeyId\""), "{message}");
}

#[tokio::test]
async fn a_parameter_given_twice_is_refused_and_changes_nothing() {
    let server = TestServer::start(Transport::Http).await;
    let (first, second) = (server.key().await, server.key().await);
    // In the query and in the body with different values: the reorderable V1 case.
    let mut disable = RawRequest::new("DisableKey").param("KeyId", &first);
    disable.placement = ParamPlacement::BusinessInBody;
    disable.extra_params.push(("KeyId".into(), second.clone()));
    // Twice in the query with the same value.
    let mut same = RawRequest::new("DisableKey").param("KeyId", &first);
    same.extra_params.push(("KeyId".into(), first.clone()));
    for req in [disable, same] {
        let (status, code, message) = refused(&server, req).await;
        assert_eq!((status, code.as_str()), (400, "InvalidParameter"));
        assert!(
            message.contains("\"KeyId\"") && message.contains("more than once"),
            "{message}"
        );
    }
    for key in [first, second] {
        let record = server.service.describe_key(&KeyRef::Id(key)).await.unwrap();
        assert_eq!(record.state.as_str(), "Enabled");
    }
}
