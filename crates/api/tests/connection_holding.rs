//! Holding connections: a client cannot keep the server's connection slots to itself.
//!
//! Owns: a client that pipelines requests and never reads the replies is disconnected once
//! writing to it has made no progress for the write deadline, which frees its slot for
//! others; one source beyond its connection limit is closed at once while another source
//! (`127.0.0.2`, another loopback address) is still served. Not here: the global cap's
//! backlog (`server.rs`), the header and body deadlines (`server.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use openkms_api::ServerOptions;
use support::{BareConnection, TestServer, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A generous bound for anything that should be immediate.
const PROMPTLY: Duration = Duration::from_secs(10);

fn health(addr: SocketAddr) -> String {
    format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\n\r\n")
}

/// A connection to `server` from the loopback address `from`, with a small receive buffer.
async fn connect_from(from: &str, server: SocketAddr, recv_buffer: Option<u32>) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    socket
        .bind(format!("{from}:0").parse().unwrap())
        .expect("bind a loopback source address");
    socket.connect(server).await.expect("connect")
}

/// Sends `/healthz` on `stream` and reads the status of its reply.
async fn healthz_status(stream: &mut TcpStream, server: SocketAddr) -> u16 {
    stream.write_all(health(server).as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    let mut chunk = [0u8; 1024];
    tokio::time::timeout(PROMPTLY, async {
        while !reply.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "the server closed the connection");
            reply.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("a reply in time");
    let text = String::from_utf8_lossy(&reply);
    text.split(' ').nth(1).unwrap().parse().unwrap()
}

/// Whether the server closes `stream` (end of stream or reset) within `within`.
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    let mut chunk = [0u8; 256];
    matches!(
        tokio::time::timeout(within, stream.read(&mut chunk)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn a_client_that_never_reads_is_cut_off_and_its_slot_freed() {
    let options = ServerOptions {
        max_connections: 1,
        // The idle and header deadline stays long: only the write deadline may end it.
        header_timeout: Duration::from_secs(120),
        write_timeout: Duration::from_secs(1),
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(Transport::Http, options).await;
    let stalled = connect_from("127.0.0.1", server.addr, Some(4096)).await;
    let (_unread, mut writer) = stalled.into_split();
    // About 13 MB of replies: more than the kernel's send buffer takes (Linux grows it up
    // to `net.ipv4.tcp_wmem`'s maximum, 4 MB by default), so the server's writes stall.
    let pipeline = health(server.addr).repeat(100_000);
    // Written on its own: once the server stops reading, these writes block too.
    let sender = tokio::spawn(async move {
        let _ = writer.write_all(pipeline.as_bytes()).await;
        writer
    });
    // The stalled client holds the only slot until the write deadline cuts it off; then a
    // fresh client is served.
    let mut fresh = BareConnection::connect(server.addr).await;
    fresh.send(health(server.addr).as_bytes()).await;
    let reply = fresh.read_reply(Duration::from_secs(90)).await;
    assert_eq!(reply.status, 200);
    sender.abort();
}

#[tokio::test]
async fn one_source_cannot_hold_every_connection() {
    let options = ServerOptions {
        max_connections: 10,
        max_connections_per_source: 2,
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(Transport::Http, options).await;
    let mut first = connect_from("127.0.0.1", server.addr, None).await;
    let mut second = connect_from("127.0.0.1", server.addr, None).await;
    assert_eq!(healthz_status(&mut first, server.addr).await, 200);
    assert_eq!(healthz_status(&mut second, server.addr).await, 200);

    let mut third = connect_from("127.0.0.1", server.addr, None).await;
    assert!(
        closed_by_server(&mut third, PROMPTLY).await,
        "a source beyond its limit was kept"
    );

    let mut other = connect_from("127.0.0.2", server.addr, None).await;
    assert_eq!(healthz_status(&mut other, server.addr).await, 200);

    // A closed connection gives its source's place back.
    drop(first);
    let mut again = tokio::time::timeout(PROMPTLY, async {
        loop {
            let mut next = connect_from("127.0.0.1", server.addr, None).await;
            if !closed_by_server(&mut next, Duration::from_millis(300)).await {
                return next;
            }
        }
    })
    .await
    .expect("the source's place back after a connection closed");
    assert_eq!(healthz_status(&mut again, server.addr).await, 200);
}
