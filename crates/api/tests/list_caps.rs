//! Repeat lists and the number of parameters are bounded before authentication (issue 13,
//! security review: thousands of `Tag.N` / `ResourceId.N` / `TagKey.N` made decoding
//! quadratic for anyone who could reach the port), in process over HTTP: an over-long list or
//! a request of too many parameters is 400 `InvalidParameter` with a `RequestId` even when
//! its signature is wrong, and a signed request of more than 20 tags changes nothing.
//!
//! Not here: that the decoders are O(n log n) (their unit tests bound the lists; the code uses
//! ordered maps), the per-value limits (tests/bounds.rs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod support;

use openkms_client::{AccessKeySecret, ClientError, ParamPlacement, RawRequest};
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

/// A `action` on `key` with `n` numbered `name.<i><suffix>` parameters, in the body (the
/// key is `ResourceId.1` unless the list is `ResourceId`).
fn listing(action: &str, key: &str, (name, suffix): (&str, &str), n: usize) -> RawRequest {
    let mut req = RawRequest::new(action)
        .param("RegionId", "cn-hangzhou")
        .param("ResourceType", "key");
    if name != "ResourceId" {
        req = req.param("ResourceId.1", key);
    }
    for i in 1..=n {
        let value = format!("k{i}");
        req = req.param(format!("{name}.{i}{suffix}"), value);
    }
    req.placement = ParamPlacement::BusinessInBody;
    req
}

fn unsigned_by_us(mut req: RawRequest) -> RawRequest {
    req.signing_secret = Some(AccessKeySecret::new("not-the-secret"));
    req
}

#[tokio::test]
async fn overlong_lists_are_refused_before_authentication() {
    let server = TestServer::start(Transport::Http).await;
    let key = server.key().await;
    let cases = [
        (listing("TagResources", &key, ("Tag", ".Key"), 41), "Tag"),
        (
            listing("UntagResources", &key, ("TagKey", ""), 21),
            "TagKey",
        ),
        (
            listing("ListTagResources", &key, ("ResourceId", ""), 51),
            "ResourceId",
        ),
    ];
    for (req, name) in cases {
        let (status, code, message) = refused(&server, unsigned_by_us(req)).await;
        assert_eq!((status, code.as_str()), (400, "InvalidParameter"), "{name}");
        assert!(message.contains(&format!("\"{name}\"")), "{message}");
    }
    let tags = server.service.list_key_tags(&key).await.unwrap();
    assert!(tags.is_empty());
}

#[tokio::test]
async fn too_many_parameters_are_refused_before_authentication() {
    let server = TestServer::start(Transport::Http).await;
    let key = server.key().await;
    let mut padded = RawRequest::new("ListKeys");
    for i in 0..300 {
        padded = padded.param(format!("Pad{i}"), "x");
    }
    padded.placement = ParamPlacement::BusinessInBody;
    // The flood of the review: thousands of list items in a body under 64 KiB.
    let flood = listing("UntagResources", &key, ("TagKey", ""), 3_000);
    for req in [padded, flood] {
        let (status, code, message) = refused(&server, unsigned_by_us(req)).await;
        assert_eq!((status, code.as_str()), (400, "InvalidParameter"));
        assert!(message.contains("256 parameters"), "{message}");
    }
}

#[tokio::test]
async fn more_than_twenty_tags_are_refused_and_twenty_are_taken() {
    let server = TestServer::start(Transport::Http).await;
    let key = server.key().await;
    // 21 tags given by key only: within the screen's count of parameters, refused by the
    // decoder (at most 20 tags).
    let (status, code, message) =
        refused(&server, listing("TagResources", &key, ("Tag", ".Key"), 21)).await;
    assert_eq!((status, code.as_str()), (400, "InvalidParameter"));
    assert!(
        message.contains("\"Tag\"") && message.contains("20"),
        "{message}"
    );
    assert!(server.service.list_key_tags(&key).await.unwrap().is_empty());
    let mut twenty = listing("TagResources", &key, ("Tag", ".Key"), 20);
    for i in 1..=20 {
        twenty = twenty.param(format!("Tag.{i}.Value"), "v");
    }
    server.client.call_with(twenty).await.unwrap();
    assert_eq!(server.service.list_key_tags(&key).await.unwrap().len(), 20);
}
