//! The server path in process: `openkms_api::serve` on `127.0.0.1:0` with a real listener,
//! HTTP/1.1 and TLS, `App::handle`, the signing client and the SQLite store.
//!
//! Owns: a signed Encrypt/Decrypt round trip over HTTPS and HTTP, the Alibaba error envelope
//! (unknown key, bad signature, unsigned request) with its exact values, XML replies (also
//! the default without `Format`), form media types in any case, and
//! graceful shutdown (a request whose body is still arriving completes, new connections are
//! refused, `serve` returns within a bound). Not here: each action's rules (the core's and the
//! actions' tests, the Python and npm suites) or authorization (`authorization.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use openkms_api::ServerOptions;
use openkms_client::{ClientError, ParamPlacement, RawRequest, SignatureMode};
use serde_json::Value;
use support::{AK_ID, AK_SECRET, BareConnection, BareReply, TestServer, Transport};

/// The `HostId` of every error from a server in cn-hangzhou.
const HOST_ID: &str = "openkms.cn-hangzhou";
const JSON: &str = "application/json;charset=utf-8";
const XML: &str = "text/xml;charset=utf-8";
/// A generous bound for anything that should be immediate.
const PROMPTLY: Duration = Duration::from_secs(10);

/// `RequestId`s are uppercase UUIDs.
fn assert_request_id(id: &str) {
    let shape: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(
        shape,
        [8, 4, 4, 4, 12],
        "RequestId {id:?} is not UUID-shaped"
    );
    assert!(
        id.chars()
            .all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase()),
        "RequestId {id:?} is not uppercase hex"
    );
}

fn members(body: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = body
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names
}

/// The fields of an API error, checked against the envelope every error has (§4.2).
fn api_error(err: ClientError) -> (u16, Value) {
    let ClientError::Api {
        status,
        code,
        request_id,
        body,
        ..
    } = err
    else {
        panic!("expected an API error, got {err}");
    };
    assert_eq!(
        members(&body),
        ["Code", "HostId", "Message", "Recommend", "RequestId"]
    );
    assert_eq!(body["Code"], code.as_str());
    assert_eq!(body["RequestId"], request_id.as_str());
    assert_request_id(&request_id);
    assert_eq!(body["HostId"], HOST_ID);
    (status, *body)
}

async fn round_trip(transport: Transport) {
    let server = TestServer::start(transport).await;
    let key = server.key().await;
    let plaintext = "aGVsbG8gd29ybGQ=";
    let sealed = server
        .client
        .call("Encrypt", &[("KeyId", &key), ("Plaintext", plaintext)])
        .await
        .expect("Encrypt succeeds");
    assert_eq!(
        members(&sealed),
        ["CiphertextBlob", "KeyId", "KeyVersionId", "RequestId"]
    );
    assert_eq!(sealed["KeyId"], key.as_str());
    assert_request_id(sealed["RequestId"].as_str().unwrap());
    let blob = sealed["CiphertextBlob"].as_str().unwrap();
    assert!(!blob.is_empty() && !blob.contains(plaintext));
    let opened = server
        .client
        .call("Decrypt", &[("CiphertextBlob", blob)])
        .await
        .expect("Decrypt succeeds");
    assert_eq!(
        members(&opened),
        ["KeyId", "KeyVersionId", "Plaintext", "RequestId"]
    );
    assert_eq!(opened["Plaintext"], plaintext);
    assert_eq!(opened["KeyId"], key.as_str());
    assert_eq!(opened["KeyVersionId"], sealed["KeyVersionId"]);
    assert_request_id(opened["RequestId"].as_str().unwrap());
    assert_ne!(opened["RequestId"], sealed["RequestId"], "a RequestId each");
}

#[tokio::test]
async fn encrypt_then_decrypt_over_https() {
    round_trip(Transport::Https).await;
}

#[tokio::test]
async fn encrypt_then_decrypt_over_plain_http() {
    round_trip(Transport::Http).await;
}

#[tokio::test]
async fn an_unknown_key_is_404_forbidden_key_not_found() {
    let server = TestServer::start(Transport::Https).await;
    let missing = "2a0b4c1e-0000-4000-8000-000000000000";
    let prepared = server
        .client
        .prepare(
            RawRequest::new("Encrypt")
                .param("KeyId", missing)
                .param("Plaintext", "eA=="),
        )
        .unwrap();
    let raw = server.client.send(&prepared).await.unwrap();
    assert_eq!(raw.headers["content-type"], JSON);
    let (status, body) = api_error(raw.into_result().unwrap_err());
    assert_eq!(status, 404);
    assert_eq!(body["Code"], "Forbidden.KeyNotFound");
    assert_eq!(body["Message"], "The specified Key is not found.");
    assert_eq!(
        body["Recommend"],
        "Check the KeyId; no key with that id or ARN exists."
    );
}

#[tokio::test]
async fn a_wrong_secret_is_400_signature_does_not_match_with_the_string_to_sign() {
    let server = TestServer::start(Transport::Https).await;
    let key = server.key().await;
    let mut req = RawRequest::new("Encrypt")
        .param("KeyId", &key)
        .param("Plaintext", "eA==");
    req.signing_secret = Some(openkms_client::AccessKeySecret::new(format!(
        "{AK_SECRET}-wrong"
    )));
    let prepared = server.client.prepare(req).unwrap();
    let raw = server.client.send(&prepared).await.unwrap();
    let (status, body) = api_error(raw.into_result().unwrap_err());
    assert_eq!(status, 400);
    assert_eq!(body["Code"], "SignatureDoesNotMatch");
    // aliyunsdkcore splits the message on ':' and compares the rest with its own (§2.4).
    let expected = format!(
        "Specified signature is not matched with our calculation. server string to sign is:{}",
        prepared.string_to_sign
    );
    assert_eq!(body["Message"], expected.as_str());
    assert_eq!(
        body["Recommend"],
        "Check the AccessKeySecret that signs the request."
    );
}

#[tokio::test]
async fn an_unsigned_request_is_400_missing_parameter_signature() {
    let server = TestServer::start(Transport::Https).await;
    let key = server.key().await;
    let mut req = RawRequest::new("Encrypt")
        .param("KeyId", &key)
        .param("Plaintext", "eA==");
    req.signature = SignatureMode::Omit;
    let err = server.client.call_with(req).await.unwrap_err();
    let (status, body) = api_error(err);
    assert_eq!(status, 400);
    assert_eq!(body["Code"], "MissingParameter");
    assert_eq!(
        body["Message"],
        "The input parameter \"Signature\" that is mandatory for processing this request is not supplied."
    );
    assert_eq!(body["Recommend"], "");
}

/// The text of the first `<name>…</name>` in `xml`.
fn xml_field<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{name}> in {xml}"))
        + open.len();
    let len = xml[start..]
        .find(&format!("</{name}>"))
        .unwrap_or_else(|| panic!("no </{name}> in {xml}"));
    &xml[start..start + len]
}

/// Sends `req` asking for `Format=XML` (the business parameter comes before the client's
/// own `Format=JSON`, and the first occurrence is the one read); status, type and body.
async fn send_xml(server: &TestServer, req: RawRequest) -> (u16, String, String) {
    let mut req = req;
    req.params.insert(0, ("Format".into(), "XML".into()));
    let prepared = server.client.prepare(req).unwrap();
    let raw = server.client.send(&prepared).await.unwrap();
    let content_type = raw.headers["content-type"].to_str().unwrap().to_owned();
    let body = String::from_utf8(raw.body.to_vec()).unwrap();
    (raw.status, content_type, body)
}

#[tokio::test]
async fn xml_success_is_an_action_response_element() {
    let server = TestServer::start(Transport::Https).await;
    let key = server.key().await;
    let req = RawRequest::new("Encrypt")
        .param("KeyId", &key)
        .param("Plaintext", "eA==");
    let (status, content_type, body) = send_xml(&server, req).await;
    assert_eq!((status, content_type.as_str()), (200, XML), "{body}");
    let prefix = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><EncryptResponse>";
    assert!(body.starts_with(prefix), "{body}");
    assert!(body.ends_with("</EncryptResponse>"), "{body}");
    assert_eq!(xml_field(&body, "KeyId"), key);
    assert!(!xml_field(&body, "CiphertextBlob").is_empty());
    assert!(!xml_field(&body, "KeyVersionId").is_empty());
    assert_request_id(xml_field(&body, "RequestId"));
}

#[tokio::test]
async fn xml_error_is_an_error_element_with_the_envelope() {
    let server = TestServer::start(Transport::Https).await;
    let req = RawRequest::new("Encrypt")
        .param("KeyId", "2a0b4c1e-0000-4000-8000-000000000000")
        .param("Plaintext", "eA==");
    let (status, content_type, body) = send_xml(&server, req).await;
    assert_eq!((status, content_type.as_str()), (404, XML), "{body}");
    let prefix = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>";
    assert!(body.starts_with(prefix), "{body}");
    assert!(body.ends_with("</Error>"), "{body}");
    assert_eq!(xml_field(&body, "Code"), "Forbidden.KeyNotFound");
    assert_eq!(
        xml_field(&body, "Message"),
        "The specified Key is not found."
    );
    assert_eq!(
        xml_field(&body, "Recommend"),
        "Check the KeyId; no key with that id or ARN exists."
    );
    assert_eq!(xml_field(&body, "HostId"), HOST_ID);
    assert_request_id(xml_field(&body, "RequestId"));
}

/// The head of a signed Encrypt whose parameters all travel in a form body, asking for
/// `100 Continue` so the server says when its handler starts reading the body; and the body.
async fn encrypt_in_pieces(server: &TestServer) -> (String, Vec<u8>) {
    let key = server.key().await;
    let mut req = RawRequest::new("Encrypt")
        .param("KeyId", &key)
        .param("Plaintext", "aW4gZmxpZ2h0");
    req.placement = ParamPlacement::AllInBody;
    let prepared = server.client.prepare(req).unwrap();
    let body = prepared.form_body.expect("a form body").into_bytes();
    let head = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
         content-length: {}\r\nexpect: 100-continue\r\n\r\n",
        server.addr,
        body.len()
    );
    (head, body)
}

#[tokio::test]
async fn shutdown_lets_a_request_whose_body_is_still_arriving_finish() {
    let mut server = TestServer::start(Transport::Http).await;
    let (head, body) = encrypt_in_pieces(&server).await;
    let mut conn = BareConnection::connect(server.addr).await;
    conn.send(head.as_bytes()).await;
    // The handler is reading the body once the server says 100 Continue.
    let (status, _) = conn.read_head(PROMPTLY).await;
    assert_eq!(status, 100);
    let (first, rest) = body.split_at(body.len() / 2);
    conn.send(first).await;
    server.trigger_shutdown();
    let deadline = Instant::now() + PROMPTLY;
    while !server.refuses_connections().await {
        assert!(Instant::now() < deadline, "still accepting after shutdown");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // `serve` waits for the request (a moment's grace lets a `serve` that did not return).
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        server.is_serving(),
        "serve returned with a request in flight"
    );
    conn.send(rest).await;
    let reply = conn.read_reply(PROMPTLY).await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.header("content-type"), Some(JSON));
    let json: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(
        members(&json),
        ["CiphertextBlob", "KeyId", "KeyVersionId", "RequestId"]
    );
    assert!(
        conn.closed_by_server(PROMPTLY).await,
        "no keep-alive past shutdown"
    );
    server.shutdown(PROMPTLY).await;
}

#[tokio::test]
async fn shutdown_closes_idle_keep_alive_connections_at_once() {
    let options = ServerOptions {
        drain_timeout: Duration::from_secs(60),
        ..ServerOptions::default()
    };
    let mut server = TestServer::start_with(Transport::Https, options).await;
    let key = server.key().await;
    // The client keeps its connection open for the next call.
    let params = [("KeyId", key.as_str()), ("Plaintext", "eA==")];
    server.client.call("Encrypt", &params).await.unwrap();
    let started = Instant::now();
    server.shutdown(PROMPTLY).await;
    assert!(started.elapsed() < PROMPTLY);
    assert!(server.refuses_connections().await);
    let err = server.client.call("Encrypt", &params).await.unwrap_err();
    assert!(matches!(err, ClientError::Transport(_)), "{err}");
}

#[tokio::test]
async fn shutdown_gives_up_on_a_stalled_request_after_the_drain_timeout() {
    let options = ServerOptions {
        drain_timeout: Duration::from_millis(500),
        ..ServerOptions::default()
    };
    let mut server = TestServer::start_with(Transport::Http, options).await;
    let (head, body) = encrypt_in_pieces(&server).await;
    let mut conn = BareConnection::connect(server.addr).await;
    conn.send(head.as_bytes()).await;
    assert_eq!(conn.read_head(PROMPTLY).await.0, 100);
    conn.send(&body[..body.len() / 2]).await;
    // The rest never comes; `serve` still returns, soon after its drain timeout.
    let started = Instant::now();
    server.shutdown(PROMPTLY).await;
    assert!(started.elapsed() >= Duration::from_millis(400));
}

// -- what hand-built requests see (issue 12 §3): the reply format without a `Format`
// parameter (XML, Alibaba's RPC default; JSON when `Accept` asks for it or `Format` says so,
// in the query or the form body), and form bodies whose media type is spelled in another
// case or carries parameters.

/// A signed Encrypt of `key` with its parameters placed as `placement`; `format` replaces the
/// client's own `Format=JSON`; `None` sends none.
fn encrypt(key: &str, placement: ParamPlacement, format: Option<&str>) -> RawRequest {
    let mut req = RawRequest::new("Encrypt")
        .param("KeyId", key)
        .param("Plaintext", "aGk=");
    req.placement = placement;
    match format {
        Some(format) => req.params.insert(0, ("Format".into(), format.into())),
        None => req.omit_params.push("Format".into()),
    }
    req
}

/// Sends `req` prepared by the server's client, with only `headers` besides the framing.
async fn send(server: &TestServer, req: RawRequest, headers: &str) -> BareReply {
    let prepared = server.client.prepare(req).unwrap();
    let body = prepared.form_body.unwrap_or_default();
    let head = format!(
        "POST {} HTTP/1.1\r\nhost: {}\r\n{headers}content-length: {}\r\n\r\n",
        prepared.path_and_query,
        server.addr,
        body.len()
    );
    let mut conn = BareConnection::connect(server.addr).await;
    conn.send(head.as_bytes()).await;
    conn.send(body.as_bytes()).await;
    conn.read_reply(PROMPTLY).await
}

fn text(reply: &BareReply) -> &str {
    std::str::from_utf8(&reply.body).unwrap()
}

const FORM: &str = "content-type: application/x-www-form-urlencoded\r\n";

#[tokio::test]
async fn without_format_the_reply_is_xml() {
    let server = TestServer::start(Transport::Http).await;
    let key = server.key().await;
    let reply = send(&server, encrypt(&key, ParamPlacement::Query, None), "").await;
    assert_eq!(
        (reply.status, reply.header("content-type")),
        (200, Some(XML))
    );
    assert!(
        text(&reply).contains("<EncryptResponse><KeyId>"),
        "{}",
        text(&reply)
    );
    let error = send(
        &server,
        encrypt("no-such-key", ParamPlacement::Query, None),
        "",
    )
    .await;
    assert_eq!(error.header("content-type"), Some(XML));
    assert!(text(&error).contains("<Error>"), "{}", text(&error));
    // a request for another path is no RPC call: JSON, like /healthz, unless it asks for XML
    for (accept, expected) in [("", JSON), ("accept: text/xml\r\n", XML)] {
        let mut conn = BareConnection::connect(server.addr).await;
        let head = format!(
            "GET /nowhere HTTP/1.1\r\nhost: {}\r\n{accept}\r\n",
            server.addr
        );
        conn.send(head.as_bytes()).await;
        let reply = conn.read_reply(PROMPTLY).await;
        assert_eq!(reply.status, 404);
        assert_eq!(reply.header("content-type"), Some(expected));
    }
}

#[tokio::test]
async fn format_or_accept_asks_for_json() {
    let server = TestServer::start(Transport::Http).await;
    let key = server.key().await;
    let accept = "Accept: Application/JSON; q=0.9, text/plain\r\n";
    let cases = [
        (ParamPlacement::Query, None, accept),
        (ParamPlacement::Query, Some("json"), ""),
        (ParamPlacement::AllInBody, Some("JSON"), FORM),
    ];
    for (placement, format, headers) in cases {
        let reply = send(&server, encrypt(&key, placement, format), headers).await;
        assert_eq!(reply.status, 200, "{}", text(&reply));
        assert_eq!(
            reply.header("content-type"),
            Some(JSON),
            "{format:?} {headers}"
        );
        let _: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    }
    // `Format` decides over `Accept`
    let reply = send(
        &server,
        encrypt(&key, ParamPlacement::Query, Some("XML")),
        accept,
    )
    .await;
    assert_eq!(reply.header("content-type"), Some(XML));
}

#[tokio::test]
async fn form_media_types_are_case_insensitive_and_may_carry_parameters() {
    let server = TestServer::start(Transport::Http).await;
    let key = server.key().await;
    for content_type in [
        "Application/X-WWW-Form-Urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "APPLICATION/X-WWW-FORM-URLENCODED ;charset=utf-8",
    ] {
        let headers = format!("content-type: {content_type}\r\n");
        let req = encrypt(&key, ParamPlacement::AllInBody, Some("JSON"));
        let reply = send(&server, req, &headers).await;
        assert_eq!(reply.status, 200, "{content_type}: {}", text(&reply));
        assert_eq!(reply.header("content-type"), Some(JSON));
    }
    // another media type is not read as a form
    let req = encrypt(&key, ParamPlacement::AllInBody, Some("JSON"));
    let reply = send(&server, req, "content-type: text/plain\r\n").await;
    assert_eq!(reply.status, 400, "{}", text(&reply));
}

#[tokio::test]
async fn a_body_that_stalls_is_cut_off_at_its_deadline() {
    let deadline = Duration::from_millis(300);
    let server = TestServer::start_custom(Transport::Http, ServerOptions::default(), |app| {
        app.with_body_deadline(deadline)
    })
    .await;
    let mut conn = BareConnection::connect(server.addr).await;
    let head = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
         content-length: 65536\r\n\r\n",
        server.addr
    );
    conn.send(head.as_bytes()).await;
    conn.send(b"Action=Encrypt&").await;
    let reply = conn.read_reply(PROMPTLY).await;
    assert_eq!(reply.status, 408, "{reply:?}");
    // No `Format` was sent (it would be in the body): Alibaba's default, XML.
    let body = String::from_utf8(reply.body.clone()).unwrap();
    assert_eq!(xml_field(&body, "Code"), "RequestTimeout", "{body}");
    assert_request_id(xml_field(&body, "RequestId"));
    assert!(
        conn.closed_by_server(PROMPTLY).await,
        "the connection of a stalled body stays open"
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let options = ServerOptions {
        max_connections: 2,
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(Transport::Http, options).await;
    let health = format!("GET /healthz HTTP/1.1\r\nhost: {}\r\n\r\n", server.addr);
    let mut first = BareConnection::connect(server.addr).await;
    first.send(health.as_bytes()).await;
    assert_eq!(first.read_reply(PROMPTLY).await.status, 200);
    let mut second = BareConnection::connect(server.addr).await;
    second.send(health.as_bytes()).await;
    assert_eq!(second.read_reply(PROMPTLY).await.status, 200);
    // Both stay open (keep-alive): the third waits in the backlog, unserved.
    let mut third = BareConnection::connect(server.addr).await;
    third.send(health.as_bytes()).await;
    let waited = tokio::time::timeout(
        Duration::from_millis(500),
        third.read_head(Duration::from_secs(60)),
    )
    .await;
    assert!(waited.is_err(), "a connection beyond the cap was served");
    drop(first);
    assert_eq!(third.read_reply(PROMPTLY).await.status, 200);
}

/// A raw V3 (ACS3-HMAC-SHA256) request: `headers` besides `host` are sent, those named in
/// `signed` (and `host`) are signed, with `query` in the URL and no body.
fn v3_request(
    server: &TestServer,
    query: &[(&str, &str)],
    headers: &[(&str, String)],
    signed: &[&str],
) -> String {
    let host = server.addr.to_string();
    let mut all: Vec<(String, String)> = vec![("host".into(), host.clone())];
    all.extend(headers.iter().map(|(n, v)| ((*n).to_owned(), v.clone())));
    let mut names: Vec<&str> = std::iter::once("host")
        .chain(signed.iter().copied())
        .collect();
    names.sort_unstable();
    let payload = openkms_sign::EMPTY_PAYLOAD_SHA256;
    let canonical = openkms_sign::v3_canonical_request("POST", "/", query, &all, &names, payload);
    let signature = openkms_sign::V3SigningKey::new(AK_SECRET.as_bytes())
        .sign(&openkms_sign::v3_string_to_sign(&canonical));
    let authorization = openkms_sign::v3_authorization(AK_ID, &names, &signature);
    let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut text = format!("POST /?{} HTTP/1.1\r\n", query.join("&"));
    for (name, value) in &all {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str(&format!(
        "authorization: {authorization}\r\ncontent-length: 0\r\n\r\n"
    ));
    text
}

/// The V3 headers of a request for `action`, fresh date and nonce.
fn v3_headers(action: &str) -> Vec<(&'static str, String)> {
    let date = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap();
    let nonce = format!(
        "{:032x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    vec![
        ("x-acs-action", action.to_owned()),
        (
            "x-acs-content-sha256",
            openkms_sign::EMPTY_PAYLOAD_SHA256.to_owned(),
        ),
        ("x-acs-date", date),
        ("x-acs-signature-nonce", nonce),
        ("x-acs-version", "2016-01-20".to_owned()),
    ]
}

#[tokio::test]
async fn a_v3_request_must_sign_every_x_acs_header_it_carries() {
    let server = TestServer::start(Transport::Http).await;
    let key = server.key().await;
    let query = [("Format", "JSON"), ("KeyId", key.as_str())];
    let every = [
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    ];
    // Signed whole, a DescribeKey is served: the signer here is right.
    let mut conn = BareConnection::connect(server.addr).await;
    conn.send(v3_request(&server, &query, &v3_headers("DescribeKey"), &every).as_bytes())
        .await;
    assert_eq!(conn.read_reply(PROMPTLY).await.status, 200);
    // The action header left out of the signature: someone could have swapped it.
    let mut conn = BareConnection::connect(server.addr).await;
    let unsigned = &every[1..];
    conn.send(v3_request(&server, &query, &v3_headers("DisableKey"), unsigned).as_bytes())
        .await;
    let reply = conn.read_reply(PROMPTLY).await;
    assert_eq!(reply.status, 400, "{reply:?}");
    let body: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(body["Code"], "IncompleteSignature");
    let described = server
        .client
        .call("DescribeKey", &[("KeyId", key.as_str())])
        .await
        .unwrap();
    assert_eq!(described["KeyMetadata"]["KeyState"], "Enabled");
}
