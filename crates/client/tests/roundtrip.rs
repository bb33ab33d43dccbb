//! Full round trips against a tiny local server started by each test on 127.0.0.1:0.
//!
//! The server merges query and form body, verifies the V1 signature with `openkms-sign`
//! (secret `testsecret`) and answers like KMS: JSON successes, JSON errors, and a few
//! misbehaviours (HTML, slowness). Plain HTTP, plus one HTTPS server with a private CA.

// The test server's helpers panic on anything unexpected; that is their job.
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use openkms_client::{
    AccessKeySecret, Client, ClientConfig, ClientError, ConfigError, HttpMethod, ParamPlacement,
    ProtocolError, RawRequest, TransportErrorKind,
};
use openkms_sign::{v1_string_to_sign, v1_verify};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const SECRET: &str = "testsecret";

fn decode(encoded: &str) -> Vec<(String, String)> {
    let dec = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    encoded
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
        .map(|(k, v)| (dec(k), dec(v)))
        .collect()
}

fn reply(status: u16, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn kms_error(status: u16, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body =
        json!({"RequestId": "rid-err", "HostId": "127.0.0.1", "Code": code, "Message": message});
    reply(status, "application/json;charset=utf-8", body.to_string())
}

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().as_str().to_owned();
    let mut params = decode(req.uri().query().unwrap_or(""));
    let content_type = req
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = req.into_body().collect().await.unwrap().to_bytes();
    if content_type.as_deref() == Some("application/x-www-form-urlencoded") {
        params.extend(decode(std::str::from_utf8(&body).unwrap()));
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let sts = v1_string_to_sign(&method, &params);
    let signature = get("Signature").unwrap_or_default();
    if !v1_verify(SECRET.as_bytes(), &sts, &signature) {
        let message = format!(
            "Specified signature is not matched with our calculation. server string to sign is:{sts}"
        );
        return Ok(kms_error(400, "SignatureDoesNotMatch", &message));
    }
    Ok(match get("Action").as_deref() {
        _ if get("KeyId").as_deref() == Some("notfound") => kms_error(
            404,
            "Forbidden.KeyNotFound",
            "The specified Key is not found.",
        ),
        Some("Html") => reply(502, "text/html", "<html>Bad Gateway</html>".into()),
        Some("Slow") => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            reply(200, "application/json", "{}".into())
        }
        _ => {
            let echoed: serde_json::Map<String, Value> = params
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect();
            let body = json!({"RequestId": "rid-ok", "Method": method, "Params": echoed});
            reply(200, "application/json;charset=utf-8", body.to_string())
        }
    })
}

/// Starts the server; returns its address and a count of accepted connections.
async fn start(tls: Option<TlsAcceptor>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = service_fn(handle);
                match tls {
                    Some(acceptor) => {
                        let Ok(stream) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                    None => {
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(tcp), service)
                            .await;
                    }
                }
            });
        }
    });
    (addr, connections)
}

fn config(endpoint: String, ca_file: Option<std::path::PathBuf>, secret: &str) -> ClientConfig {
    ClientConfig {
        endpoint,
        ca_file,
        access_key_id: "testakid".into(),
        access_key_secret: AccessKeySecret::new(secret),
        region_id: "cn-hangzhou".into(),
    }
}

async fn plain_client(secret: &str) -> (Client, Arc<AtomicUsize>) {
    let (addr, connections) = start(None).await;
    let client = Client::new(config(format!("http://{addr}"), None, secret)).unwrap();
    (client, connections)
}

#[tokio::test]
async fn round_trip_reuses_the_connection() {
    let (client, connections) = plain_client(SECRET).await;
    let params = [
        ("KeyId", "alias/k"),
        ("EncryptionContext", r#"{"a":"b c*~+/="}"#),
        ("Plaintext", "aGk="),
    ];
    for _ in 0..3 {
        let reply = client.call("Encrypt", &params).await.unwrap();
        assert_eq!(reply["RequestId"], "rid-ok");
        assert_eq!(reply["Method"], "POST");
        assert_eq!(reply["Params"]["EncryptionContext"], r#"{"a":"b c*~+/="}"#);
        assert_eq!(reply["Params"]["Action"], "Encrypt");
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "keep-alive reuses one connection"
    );
}

#[tokio::test]
async fn get_and_form_bodies_round_trip() {
    let (client, _) = plain_client(SECRET).await;
    for (method, placement) in [
        (HttpMethod::Get, ParamPlacement::Query),
        (HttpMethod::Post, ParamPlacement::BusinessInBody),
        (HttpMethod::Post, ParamPlacement::AllInBody),
    ] {
        let req = RawRequest {
            method,
            placement,
            ..RawRequest::new("CreateSecret").param("SecretData", "p@ss w+rd/é")
        };
        let reply = client.call_with(req).await.unwrap();
        assert_eq!(reply["Method"], method.as_str());
        assert_eq!(
            reply["Params"]["SecretData"], "p@ss w+rd/é",
            "{placement:?}"
        );
    }
}

#[tokio::test]
async fn api_errors_are_typed() {
    let (client, _) = plain_client(SECRET).await;
    let err = client
        .call("DescribeKey", &[("KeyId", "notfound")])
        .await
        .unwrap_err();
    match &err {
        ClientError::Api {
            status,
            code,
            message,
            request_id,
            body,
        } => {
            assert_eq!(
                (*status, code.as_str(), request_id.as_str()),
                (404, "Forbidden.KeyNotFound", "rid-err")
            );
            assert_eq!(message, "The specified Key is not found.");
            assert_eq!(body["HostId"], "127.0.0.1");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "Forbidden.KeyNotFound: The specified Key is not found. (HTTP 404, RequestId rid-err)"
    );
}

#[tokio::test]
async fn wrong_secret_is_signature_does_not_match() {
    let (client, _) = plain_client("not-the-secret").await;
    let prepared = client
        .prepare(RawRequest::new("Encrypt").param("KeyId", "k"))
        .unwrap();
    let err = client
        .send(&prepared)
        .await
        .unwrap()
        .into_result()
        .unwrap_err();
    let ClientError::Api {
        status: 400,
        code,
        message,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(code, "SignatureDoesNotMatch");
    let server_sts = message.split_once("server string to sign is:").unwrap().1;
    assert_eq!(
        server_sts, prepared.string_to_sign,
        "client and server agree on the StringToSign"
    );
}

#[tokio::test]
async fn same_prepared_request_can_be_sent_twice() {
    let (client, _) = plain_client(SECRET).await;
    let prepared = client.prepare(RawRequest::new("Encrypt")).unwrap();
    let first = client.send(&prepared).await.unwrap().into_result().unwrap();
    let second = client.send(&prepared).await.unwrap().into_result().unwrap();
    assert_eq!(
        first["Params"]["SignatureNonce"],
        second["Params"]["SignatureNonce"]
    );
}

#[tokio::test]
async fn non_json_reply_is_a_protocol_error() {
    let (client, _) = plain_client(SECRET).await;
    let err = client.call("Html", &[]).await.unwrap_err();
    let ClientError::Protocol(ProtocolError::NotJson {
        status,
        content_type,
        ..
    }) = err
    else {
        panic!("{err:?}")
    };
    assert_eq!((status, content_type.as_deref()), (502, Some("text/html")));
}

#[tokio::test]
async fn slow_server_times_out() {
    let (client, _) = plain_client(SECRET).await;
    let client = client.with_timeout(Duration::from_millis(200));
    let err = client.call("Slow", &[]).await.unwrap_err();
    let ClientError::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind(), TransportErrorKind::Timeout);
    assert!(
        err.to_string().contains("no reply from http://127.0.0.1:"),
        "{err}"
    );
}

#[tokio::test]
async fn refused_connection_is_a_transport_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::new(config(format!("http://127.0.0.1:{port}"), None, SECRET)).unwrap();
    let err = client.call("Encrypt", &[]).await.unwrap_err();
    let ClientError::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind(), TransportErrorKind::Connect);
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("cannot connect to http://127.0.0.1:{port}: ")),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

/// A private CA and a server certificate for 127.0.0.1 / localhost.
struct Pki {
    ca_pem: String,
    acceptor: TlsAcceptor,
}

fn pki(ca_name: &str) -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_params =
        CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![server_cert.der().clone()], key)
        .unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        acceptor: TlsAcceptor::from(Arc::new(tls)),
    }
}

#[tokio::test]
async fn https_trusts_only_the_given_ca() {
    let server = pki("openkms test CA");
    let (addr, _) = start(Some(server.acceptor)).await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("ca.pem");
    std::fs::write(&good, &server.ca_pem).unwrap();
    let client = Client::new(config(format!("https://{addr}"), Some(good), SECRET)).unwrap();
    let reply = client.call("Encrypt", &[("KeyId", "k")]).await.unwrap();
    assert_eq!(reply["RequestId"], "rid-ok");

    let other = dir.path().join("other-ca.pem");
    std::fs::write(&other, pki("some other CA").ca_pem).unwrap();
    let client = Client::new(config(format!("https://{addr}"), Some(other), SECRET)).unwrap();
    let err = client.call("Encrypt", &[]).await.unwrap_err();
    let ClientError::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind(), TransportErrorKind::Tls);
    let text = err.to_string();
    assert!(
        text.contains("UnknownIssuer") && text.contains("CA file"),
        "{text}"
    );
}

#[test]
fn bad_configurations_say_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let missing = dir.path().join("missing.pem");
    type Check = fn(&ConfigError) -> bool;
    let cases: Vec<(ClientConfig, Check)> = vec![
        (config("https://h:1/kms".into(), None, SECRET), |e| {
            matches!(e, ConfigError::InvalidEndpoint { .. })
        }),
        (
            config("http://h:1".into(), Some(empty.clone()), SECRET),
            |e| matches!(e, ConfigError::CaFileWithPlainHttp { .. }),
        ),
        (config("https://h:1".into(), Some(empty), SECRET), |e| {
            matches!(e, ConfigError::NoCertificateInCaFile { .. })
        }),
        (config("https://h:1".into(), Some(missing), SECRET), |e| {
            matches!(e, ConfigError::ReadCaFile { .. })
        }),
        (
            ClientConfig {
                access_key_id: String::new(),
                ..config("https://h:1".into(), None, SECRET)
            },
            |e| matches!(e, ConfigError::EmptyAccessKeyId),
        ),
    ];
    for (config, expected) in cases {
        let err = Client::new(config).unwrap_err();
        assert!(expected(&err), "{err:?}");
    }
}
