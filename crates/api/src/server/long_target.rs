//! Requests whose target is longer than the HTTP stack can hold: their query moved into the
//! form body, below hyper, so they reach the handler at all.
//!
//! The `http` crate refuses a request target over 65,534 bytes (hyper then answers 414 with
//! no body), but the old Python SDK sends every parameter in the query string of a `POST`,
//! `SecretData` too: a 30,720-byte secret value percent-encodes to up to 92,160 bytes
//! (alibaba-kms-api-next.md §5.14). [`LongTarget`] wraps a connection's stream and follows its
//! requests head by head: a `POST /?<query>` whose target is over [`LONG_TARGET`] bytes, with
//! no body or a form body, is passed on as `POST /` with the query as the start of a form body
//! (`<query>&<body>`), its `Content-Length` and `Content-Type` set to match. The handler merges
//! query and form parameters anyway, and signature V1 signs the parameters wherever they are,
//! so such a request means exactly what it meant; a V3 request so moved no longer matches its
//! signature (V3 signs the query apart from the body) and is refused, where it would have been
//! refused with 414 before.
//!
//! Every other request passes byte for byte. What the wrapper cannot follow safely (a chunked
//! body, a head larger than the transport's buffer, a `Content-Length` it cannot read) makes it
//! step aside for the rest of the connection: from there on the bytes pass untouched, as
//! without it. It holds at most one head (bounded by the transport's `max_head_bytes`) and the
//! moved query; body bytes stream through.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Targets longer than this are moved (well below the `http` crate's 65,534-byte limit).
pub const LONG_TARGET: usize = 60 * 1024;

/// Where the wrapper is in the connection's byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a request head.
    Head,
    /// Passing this many body bytes on.
    Body(u64),
    /// Stepped aside: everything passes untouched.
    Passthrough,
}

/// A connection stream whose over-long request targets are moved into the body.
pub struct LongTarget<S> {
    inner: S,
    state: State,
    /// Bytes read from `inner` and not yet judged.
    pending: Vec<u8>,
    /// How much of `pending` is known to hold no head end: each byte is searched once, so a
    /// head trickling in a byte at a time costs linear work, not quadratic.
    scanned: usize,
    /// Bytes judged and ready for the reader, from `sent` on.
    ready: Vec<u8>,
    sent: usize,
    /// The largest head followed (the transport's buffer).
    max_head: usize,
}

impl<S> LongTarget<S> {
    /// Wraps `inner`; heads over `max_head` bytes are left to the transport to refuse.
    pub fn new(inner: S, max_head: usize) -> Self {
        Self {
            inner,
            state: State::Head,
            pending: Vec::new(),
            scanned: 0,
            ready: Vec::new(),
            sent: 0,
            max_head,
        }
    }

    /// Moves what is judged into `buf`; whether anything was.
    fn drain(&mut self, buf: &mut ReadBuf<'_>) -> bool {
        let left = &self.ready[self.sent..];
        if left.is_empty() {
            return false;
        }
        let n = left.len().min(buf.remaining());
        buf.put_slice(&left[..n]);
        self.sent += n;
        if self.sent == self.ready.len() {
            self.ready.clear();
            self.sent = 0;
        }
        true
    }

    /// Judges what is pending as far as it can; whether more input is needed.
    fn judge(&mut self) -> bool {
        match self.state {
            State::Passthrough => {
                self.ready.append(&mut self.pending);
                false
            }
            State::Body(0) => {
                self.state = State::Head;
                self.pending.is_empty()
            }
            State::Body(n) => {
                let take = usize::try_from(n)
                    .unwrap_or(usize::MAX)
                    .min(self.pending.len());
                self.ready.extend(self.pending.drain(..take));
                self.state = State::Body(n - take as u64);
                self.pending.is_empty()
            }
            State::Head => self.judge_head(),
        }
    }

    /// A whole head pending: passed on (rewritten if its target is long); else whether more
    /// input is needed.
    fn judge_head(&mut self) -> bool {
        let from = self.scanned.saturating_sub(3);
        let Some(end) = find(&self.pending[from..], b"\r\n\r\n").map(|i| i + from) else {
            self.scanned = self.pending.len();
            if self.pending.len() > self.max_head {
                self.state = State::Passthrough;
                return false;
            }
            return true;
        };
        let head: Vec<u8> = self.pending.drain(..end + 4).collect();
        self.scanned = 0;
        let (bytes, state) = pass_head(&head);
        self.ready.extend_from_slice(&bytes);
        self.state = state;
        self.pending.is_empty()
    }
}

/// The bytes [`LongTarget`] passes on for a connection that sends `input` and then ends: what
/// the fuzz target checks, without I/O.
pub fn rewrite(input: &[u8], max_head: usize) -> Vec<u8> {
    let mut t = LongTarget::new((), max_head);
    t.pending.extend_from_slice(input);
    while !t.pending.is_empty() && !t.judge() {}
    t.ready.append(&mut t.pending);
    t.ready
}

/// The head to pass on and the state after it.
fn pass_head(head: &[u8]) -> (Vec<u8>, State) {
    let Ok(text) = std::str::from_utf8(head) else {
        return (head.to_vec(), State::Passthrough);
    };
    let mut lines = text[..text.len() - 4].split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let headers: Vec<&str> = lines.collect();
    let Some(body) = body_length(&headers) else {
        return (head.to_vec(), State::Passthrough);
    };
    match moved(request_line, &headers, body) {
        Some(rewritten) => rewritten,
        None => (head.to_vec(), State::Body(body)),
    }
}

/// The body length the headers announce (0 when none); `None` when it cannot be followed
/// (chunked or another transfer coding, or a length that does not read).
fn body_length(headers: &[&str]) -> Option<u64> {
    let mut length = 0;
    for line in headers {
        let (name, value) = line.split_once(':')?;
        let name = name.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            return None;
        }
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().ok()?;
        }
    }
    Some(length)
}

/// The head with its long query moved into the body, when it has one to move.
fn moved(request_line: &str, headers: &[&str], body: u64) -> Option<(Vec<u8>, State)> {
    let mut parts = request_line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    let query = target.strip_prefix("/?")?;
    let form = headers
        .iter()
        .all(|line| !is_header(line, "content-type") || is_form(line));
    if method != "POST" || target.len() <= LONG_TARGET || parts.next().is_some() || !form {
        return None;
    }
    let prefix = match body {
        0 => query.to_owned(),
        _ => format!("{query}&"),
    };
    let length = body + prefix.len() as u64;
    let mut out = format!("POST / {version}\r\n");
    for line in headers {
        if !is_header(line, "content-length") && !is_header(line, "content-type") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("content-type: application/x-www-form-urlencoded\r\n");
    out.push_str(&format!("content-length: {length}\r\n\r\n"));
    out.push_str(&prefix);
    Some((out.into_bytes(), State::Body(body)))
}

fn is_header(line: &str, name: &str) -> bool {
    line.split_once(':')
        .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
}

fn is_form(line: &str) -> bool {
    let value = line.split_once(':').map_or("", |(_, v)| v);
    let media = value.split(';').next().unwrap_or_default().trim();
    media.eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl<S: AsyncRead + Unpin> AsyncRead for LongTarget<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.drain(buf) {
                return Poll::Ready(Ok(()));
            }
            if this.state == State::Passthrough && this.pending.is_empty() {
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            }
            if !this.pending.is_empty() {
                let needs_more = this.judge();
                if !needs_more || this.sent < this.ready.len() {
                    continue;
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            let mut read = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) if read.filled().is_empty() => {
                    // The end: whatever is pending goes on as it is, then the end itself.
                    this.ready.append(&mut this.pending);
                    this.state = State::Passthrough;
                    this.drain(buf);
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Ok(())) => {
                    this.pending.extend_from_slice(read.filled());
                    this.judge();
                }
                other => return other,
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for LongTarget<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tokio::io::AsyncReadExt;

    use super::*;

    async fn through(input: &[u8], chunk: usize) -> Vec<u8> {
        // A reader that hands out at most `chunk` bytes a read, so heads arrive in pieces.
        let (mut tx, rx) = tokio::io::duplex(chunk);
        let data = input.to_vec();
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            tx.write_all(&data).await.unwrap();
        });
        let mut out = Vec::new();
        LongTarget::new(rx, 256 * 1024)
            .read_to_end(&mut out)
            .await
            .unwrap();
        writer.await.unwrap();
        out
    }

    fn post(target: &str, headers: &str, body: &str) -> String {
        format!(
            "POST {target} HTTP/1.1\r\nhost: x\r\n{headers}content-length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    #[tokio::test]
    async fn ordinary_requests_pass_byte_for_byte() {
        let q = "/?Action=Encrypt&KeyId=k";
        let two = format!(
            "{}{}GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n",
            post(q, "", ""),
            post(
                "/",
                "content-type: application/x-www-form-urlencoded\r\n",
                "Plaintext=abc"
            )
        );
        for chunk in [1, 7, 64, 4096] {
            assert_eq!(through(two.as_bytes(), chunk).await, two.as_bytes());
        }
    }

    #[tokio::test]
    async fn a_long_query_moves_into_the_form_body_and_the_next_request_follows() {
        let query = format!("Action=CreateSecret&SecretData={}", "%C3%A9".repeat(15_360));
        let target = format!("/?{query}");
        let form = "content-type: application/x-www-form-urlencoded; charset=utf-8\r\n";
        let next = "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";
        let input = format!("{}{}", post(&target, form, "Extra=1"), next);
        for chunk in [13, 4096] {
            let out = String::from_utf8(through(input.as_bytes(), chunk).await).unwrap();
            let body = format!("{query}&Extra=1");
            let expected = format!(
                "POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\n\
                 content-length: {}\r\n\r\n{body}{next}",
                body.len()
            );
            assert_eq!(out, expected);
        }
    }

    #[tokio::test]
    async fn what_cannot_be_followed_passes_untouched() {
        let long = format!("/?Action=X&Pad={}", "a".repeat(LONG_TARGET));
        let cases = [
            // a long GET, a JSON body, a chunked body: untouched, and so is what follows
            format!("GET {long} HTTP/1.1\r\nhost: x\r\n\r\n"),
            post(&long, "content-type: application/json\r\n", "{}"),
            format!(
                "POST {long} HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n{}",
                post(&long, "", "")
            ),
        ];
        for case in cases {
            assert_eq!(through(case.as_bytes(), 4096).await, case.as_bytes());
        }
    }

    /// The synchronous `rewrite` (the fuzz target's) agrees with the stream, and streams
    /// without a long target pass unchanged, over pseudo-random pipelines.
    #[tokio::test]
    async fn rewrite_agrees_with_the_stream() {
        let mut seed = 0x9e37_79b9_u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        let parts = [
            "GET / HTTP/1.1\r\n\r\n".to_owned(),
            post("/?A=1", "", "x=1"),
            post(
                "/",
                "content-type: application/x-www-form-urlencoded\r\n",
                "B=2",
            ),
            format!(
                "POST /?P={} HTTP/1.1\r\ncontent-length: 0\r\n\r\n",
                "a".repeat(LONG_TARGET)
            ),
            "POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n".to_owned(),
        ];
        for _ in 0..40 {
            let input: String = (0..4)
                .map(|_| parts[next() as usize % parts.len()].clone())
                .collect();
            let sync = rewrite(input.as_bytes(), 256 * 1024);
            assert_eq!(through(input.as_bytes(), 4096).await, sync);
            if !input.contains("P=aaa") {
                assert_eq!(sync, input.as_bytes());
            }
        }
    }

    /// A client that sends one request and waits for the answer gets its request through
    /// whole, without sending more (the wrapper never sits on judged bytes).
    #[tokio::test]
    async fn a_request_is_passed_on_while_the_client_waits() {
        use tokio::io::AsyncWriteExt;
        let (mut tx, rx) = tokio::io::duplex(64 * 1024);
        let mut wrapped = LongTarget::new(rx, 256 * 1024);
        let long = format!("/?P={}", "a".repeat(LONG_TARGET));
        for request in [
            "GET / HTTP/1.1\r\n\r\n".to_owned(),
            post("/?A=1", "", "x=1"),
            format!("POST {long} HTTP/1.1\r\ncontent-length: 0\r\n\r\n"),
        ] {
            tx.write_all(request.as_bytes()).await.unwrap();
            let want = rewrite(request.as_bytes(), 256 * 1024);
            let mut got = vec![0u8; want.len()];
            let read = wrapped.read_exact(&mut got);
            tokio::time::timeout(std::time::Duration::from_secs(5), read)
                .await
                .expect("the request was held back")
                .unwrap();
            assert_eq!(got, want);
        }
    }
}
