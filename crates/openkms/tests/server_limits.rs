//! `openkms server`'s connection cap and request deadline, as configured: a stalled body is
//! answered `RequestTimeout` after `--request-timeout-secs`, and beyond `--max-connections`
//! a new connection is not served until an open one closes. The operator endpoints of a
//! sealed server (`--seal shamir`) keep the same body deadline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::Server;

/// Connects to the plain-HTTP server, with a read timeout.
fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Sends `GET /healthz` on `stream` and says whether an HTTP answer came back in time.
fn answers(stream: &mut TcpStream) -> bool {
    let asked = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut buf = [0u8; 12];
    asked.is_ok() && stream.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.1 200")
}

#[test]
fn a_stalled_body_is_timed_out_after_the_configured_deadline() {
    let server = Server::start_with(&["--insecure-http", "--request-timeout-secs", "1"]);
    let mut stream = connect(&server);
    let head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Content-Length: 100\r\n\r\nAction=Encr";
    stream.write_all(head.as_bytes()).unwrap();
    let mut reply = String::new();
    // The server answers and closes well before the 20 s read timeout (the default
    // deadline would be 30 s).
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("RequestTimeout"), "{reply}");
    assert!(reply.contains("RequestId"), "{reply}");
}

#[test]
fn a_stalled_operator_body_is_timed_out_after_the_configured_deadline() {
    let server = Server::start_with(&[
        "--insecure-http",
        "--request-timeout-secs",
        "1",
        "--seal",
        "shamir",
    ]);
    for name in ["init", "unseal"] {
        let mut stream = connect(&server);
        let head = format!(
            "POST /openkms/operator/{name} HTTP/1.1\r\nHost: x\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"Sh"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut reply = String::new();
        // Answered and closed well before the 20 s read timeout (no deadline at all would
        // hold the connection for ever).
        stream.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 408"), "{name}: {reply}");
        assert!(reply.contains("RequestTimeout"), "{name}: {reply}");
    }
}

#[test]
fn connections_beyond_the_cap_wait_until_one_closes() {
    let server = Server::start_with(&["--insecure-http", "--max-connections", "2"]);
    let mut first = connect(&server);
    let mut second = connect(&server);
    assert!(answers(&mut first));
    assert!(answers(&mut second));
    let mut third = connect(&server);
    third
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    assert!(
        !answers(&mut third),
        "a third connection is served at a cap of 2"
    );
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = [0u8; 12];
    // The request sent earlier is answered once a slot frees.
    third.read_exact(&mut buf).unwrap();
    assert!(buf.starts_with(b"HTTP/1.1 200"), "{buf:?}");
}
