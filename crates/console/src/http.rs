//! The console's HTTP layer: routing under `/console/`, the body and form limits, the
//! session cookie, the CSRF and cross-site checks, and the security headers every reply
//! carries.
//!
//! Every reply: a Content-Security-Policy that allows scripts, styles and form targets from
//! the console itself only (no inline script, no `eval`), `frame-ancestors 'none'` and
//! `X-Frame-Options: DENY`, `Referrer-Policy: same-origin` (no referrer leaves the console), `X-Content-Type-Options:
//! nosniff`, and `Cache-Control: no-store` on every page (pages show key material such as
//! decrypted plaintexts and new AccessKey secrets). A POST is refused (403) when the browser
//! says it is cross-site (`Sec-Fetch-Site`), when its `Origin` is not the console's own, and —
//! for a signed-in session — when it lacks the session's CSRF token.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use subtle::ConstantTimeEq;

use crate::session::{COOKIE, Session};
use crate::{Console, assets, pages};

/// The console's path prefix.
pub const PREFIX: &str = "/console/";
/// Largest form body accepted (a key policy is at most 32 KiB; a plaintext 6 KiB, sent as
/// base64).
const MAX_BODY: usize = 128 * 1024;
/// Most fields one form may have.
const MAX_FIELDS: usize = 64;
/// How long a body may take to arrive.
const BODY_DEADLINE: Duration = Duration::from_secs(30);
/// The Content-Security-Policy of every reply.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
                   base-uri 'none'";

/// One request as a page sees it.
pub struct Req {
    /// GET or POST.
    pub method: Method,
    /// The path after `/console/` (e.g. `keys/abc`).
    pub path: String,
    /// The query string's fields.
    pub query: HashMap<String, String>,
    /// The form's fields (POST).
    pub form: HashMap<String, String>,
    /// The signed-in session, if any.
    pub session: Option<Session>,
    /// The session cookie's value, if sent.
    pub cookie: Option<String>,
    /// The client's address.
    pub peer: Option<SocketAddr>,
}

impl Req {
    /// A form field, or the empty string.
    pub fn field(&self, name: &str) -> &str {
        self.form.get(name).map_or("", String::as_str)
    }

    /// A query field, or the empty string.
    pub fn param(&self, name: &str) -> &str {
        self.query.get(name).map_or("", String::as_str)
    }
}

/// What a page answers.
pub enum Reply {
    /// An HTML page.
    Page(StatusCode, String),
    /// A redirect (303) to a console path.
    Redirect(String),
    /// A redirect that also sets (or clears) the session cookie.
    RedirectWithCookie(String, String),
}

/// Answers one console request.
pub async fn handle(
    console: &Console,
    req: Request<Incoming>,
    peer: Option<SocketAddr>,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    if path == "/favicon.ico" {
        return static_file("favicon.svg");
    }
    if path == "/" || path == "/console" {
        return finish(Reply::Redirect(String::new()));
    }
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return not_found(console);
    };
    if let Some(name) = rest.strip_prefix("static/") {
        return static_file(name);
    }
    let rest = rest.to_owned();
    match read(console, req, rest, peer).await {
        Ok(req) => finish(pages::route(console, req).await),
        Err(status) => finish(error_page(console, status)),
    }
}

/// Reads, checks and decodes the request.
async fn read(
    console: &Console,
    req: Request<Incoming>,
    path: String,
    peer: Option<SocketAddr>,
) -> Result<Req, StatusCode> {
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    if method != Method::GET && method != Method::POST {
        return Err(StatusCode::METHOD_NOT_ALLOWED);
    }
    let query = fields(parts.uri.query().unwrap_or("").as_bytes())?;
    let cookie = session_cookie(&parts.headers);
    let session = cookie.as_deref().and_then(|id| console.sessions.find(id));
    let mut form = HashMap::new();
    if method == Method::POST {
        same_origin(&parts.headers)?;
        form = fields(&read_body(body).await?)?;
        if let Some(s) = &session {
            let sent = form.get("csrf").map_or("", String::as_str);
            if !bool::from(sent.as_bytes().ct_eq(s.csrf.as_bytes())) {
                return Err(StatusCode::FORBIDDEN);
            }
        } else if path != "signin" {
            return Err(StatusCode::FORBIDDEN);
        }
    }
    Ok(Req {
        method,
        path,
        query,
        form,
        session,
        cookie,
        peer,
    })
}

/// Refuses a POST the browser marks cross-site, or whose `Origin` names another host.
fn same_origin(headers: &HeaderMap) -> Result<(), StatusCode> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|site| site == "cross-site" || site == "same-site") {
        return Err(StatusCode::FORBIDDEN);
    }
    if let (Some(origin), Some(host)) = (header("origin"), header("host")) {
        let own = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        if own != Some(host) {
            return Err(StatusCode::FORBIDDEN);
        }
    }
    Ok(())
}

async fn read_body(body: Incoming) -> Result<Bytes, StatusCode> {
    let collect = Limited::new(body, MAX_BODY).collect();
    match tokio::time::timeout(BODY_DEADLINE, collect).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(_)) => Err(StatusCode::PAYLOAD_TOO_LARGE),
        Err(_) => Err(StatusCode::REQUEST_TIMEOUT),
    }
}

/// The fields of a query string or form body (a name given twice keeps its first value).
fn fields(raw: &[u8]) -> Result<HashMap<String, String>, StatusCode> {
    let mut out = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(raw) {
        if out.len() >= MAX_FIELDS {
            return Err(StatusCode::BAD_REQUEST);
        }
        out.entry(name.into_owned()).or_insert(value.into_owned());
    }
    Ok(out)
}

/// The session id the request's cookie carries.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() <= 128)
}

/// The `Set-Cookie` value of a new session.
pub fn session_cookie_header(id: &str) -> String {
    format!("{COOKIE}={id}; Path={PREFIX}; Secure; HttpOnly; SameSite=Strict")
}

/// The `Set-Cookie` value that clears the session cookie.
pub fn cleared_cookie_header() -> String {
    format!("{COOKIE}=; Path={PREFIX}; Max-Age=0; Secure; HttpOnly; SameSite=Strict")
}

/// A page for an HTTP-level refusal.
pub fn error_page(console: &Console, status: StatusCode) -> Reply {
    let why = match status {
        StatusCode::FORBIDDEN => {
            "This request was refused: it did not come from a console page of this session \
             (a missing or wrong CSRF token, or a cross-site request). Reload the page and try again."
        }
        StatusCode::NOT_FOUND => "There is no such page.",
        StatusCode::PAYLOAD_TOO_LARGE => "The form is too large.",
        _ => "The request could not be read.",
    };
    let html = console.views.render(
        "error.html",
        minijinja::context! { status => status.as_u16(), why => why },
    );
    Reply::Page(status, html)
}

fn not_found(console: &Console) -> Response<Full<Bytes>> {
    finish(error_page(console, StatusCode::NOT_FOUND))
}

fn static_file(name: &str) -> Response<Full<Bytes>> {
    let Some((content_type, bytes)) = assets::find(name) else {
        return bare(
            StatusCode::NOT_FOUND,
            "text/plain",
            Bytes::from_static(b"not found"),
        );
    };
    let mut resp = bare(StatusCode::OK, content_type, Bytes::from_static(bytes));
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    resp
}

/// The HTTP response of a page's reply, with the security headers.
fn finish(reply: Reply) -> Response<Full<Bytes>> {
    let (mut resp, cookie) = match reply {
        Reply::Page(status, html) => (
            bare(status, "text/html; charset=utf-8", Bytes::from(html)),
            None,
        ),
        Reply::Redirect(to) => (redirect(&to), None),
        Reply::RedirectWithCookie(to, cookie) => (redirect(&to), Some(cookie)),
    };
    if let Some(value) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert(header::SET_COOKIE, value);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn redirect(to: &str) -> Response<Full<Bytes>> {
    let mut resp = bare(StatusCode::SEE_OTHER, "text/plain", Bytes::new());
    let location = format!("{PREFIX}{to}");
    if let Ok(value) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, value);
    }
    resp
}

/// A response with the headers every console reply carries.
fn bare(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `same-origin`, not `no-referrer`: under `no-referrer` a browser sends `Origin: null` with
    // a form POST, and the origin check could not tell the console's own forms from others'.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_site_posts_are_refused() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h).is_ok());
        h.insert("origin", HeaderValue::from_static("https://evil.example"));
        h.insert("host", HeaderValue::from_static("127.0.0.1:8444"));
        assert!(same_origin(&h).is_err());
        h.insert("origin", HeaderValue::from_static("https://127.0.0.1:8444"));
        assert!(same_origin(&h).is_ok());
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(same_origin(&h).is_err());
    }

    #[test]
    fn fields_are_bounded_and_cookie_is_found() {
        let many: String = (0..100).map(|i| format!("f{i}=1&")).collect();
        assert!(fields(many.as_bytes()).is_err());
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; openkms_console=xyz"),
        );
        assert_eq!(session_cookie(&h).as_deref(), Some("xyz"));
    }
}
