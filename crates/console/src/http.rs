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
//! for a signed-in session — when it lacks the session's CSRF token. `Origin` is compared with
//! the `Host` header, or under HTTP/2 (no `Host`) with the request's `:authority`; a POST
//! with an `Origin` and neither is refused. A POST whose body is not
//! `application/x-www-form-urlencoded` is answered 415.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use subtle::ConstantTimeEq;

use crate::session::{COOKIE, Lookup, SIGNIN_COOKIE, Session};
use crate::{Console, assets, pages};
use zeroize::{Zeroize, Zeroizing};

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
    pub query: Fields,
    /// The form's fields (POST): passwords, AccessKey secrets, plaintexts, wiped when the
    /// request is done.
    pub form: Fields,
    /// The signed-in session, if any.
    pub session: Option<Session>,
    /// The session cookie's value (the session id), if sent; wiped when the request is done.
    pub cookie: Option<Zeroizing<String>>,
    /// The client's address.
    pub peer: Option<SocketAddr>,
}

impl Req {
    /// A form field, or the empty string.
    pub fn field(&self, name: &str) -> &str {
        self.form.get(name).map_or("", |v| v.as_str())
    }

    /// A query field, or the empty string.
    pub fn param(&self, name: &str) -> &str {
        self.query.get(name).map_or("", |v| v.as_str())
    }
}

/// What a page answers. A page's HTML is in a buffer wiped when dropped: the response body
/// owns it, so it is wiped once the body is sent (or the connection drops).
pub enum Reply {
    /// An HTML page.
    Page(StatusCode, Zeroizing<String>),
    /// A page that also sets a cookie (the sign-in page's pre-session CSRF token).
    PageWithCookie(StatusCode, Zeroizing<String>, String),
    /// A redirect (303) to a console path.
    Redirect(String),
    /// A redirect that also sets (or clears) the session cookie.
    RedirectWithCookie(String, String),
}

/// Answers one console request; over TLS every answer also carries
/// `Strict-Transport-Security` (a year), so a browser that has seen the console once never
/// tries it over plain HTTP again.
pub async fn handle(
    console: &Console,
    req: Request<Incoming>,
    peer: Option<SocketAddr>,
) -> Response<Full<Bytes>> {
    let mut resp = respond(console, req, peer).await;
    if console.config.secure {
        resp.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    resp
}

/// `Strict-Transport-Security` over TLS.
const HSTS: &str = "max-age=31536000";

async fn respond(
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
        Err(status) => refusal(console, status),
    }
}

/// The answer to a request refused before a page saw it. Its body may be unread, so the
/// connection is not kept for another request, and the answer says so (`Connection: close`)
/// rather than leaving the client to find it closed when it sends the next one.
fn refusal(console: &Console, status: StatusCode) -> Response<Full<Bytes>> {
    let mut resp = finish(error_page(console, status));
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
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
    let cookie = cookie_value(&parts.headers, COOKIE).map(Zeroizing::new);
    let session = match cookie.as_deref().map(|id| console.sessions.look_up(id)) {
        Some(Lookup::Live(s)) => Some(*s),
        Some(Lookup::Expired(s)) => {
            crate::pages::session_ended(console, peer, &s, "Expired").await;
            None
        }
        Some(Lookup::Unknown) | None => None,
    };
    let mut form = HashMap::new();
    if method == Method::POST {
        let host = own_host(&parts.headers, &parts.uri);
        same_origin(&parts.headers, host, console.config.secure)?;
        if !is_form(&parts.headers) {
            return Err(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
        form = fields(&read_body(body).await?)?;
        if path == "signin" {
            let sent = form.get("csrf").map_or("", |v| v.as_str());
            let set = cookie_value(&parts.headers, SIGNIN_COOKIE).unwrap_or_default();
            if set.is_empty() || !bool::from(sent.as_bytes().ct_eq(set.as_bytes())) {
                return Err(StatusCode::FORBIDDEN);
            }
        } else if let Some(s) = &session {
            let sent = form.get("csrf").map_or("", |v| v.as_str());
            if !bool::from(sent.as_bytes().ct_eq(s.csrf.as_bytes())) {
                return Err(StatusCode::FORBIDDEN);
            }
        } else {
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

/// The host the request was sent to: its `Host` header (HTTP/1.1), else the request URI's
/// authority (HTTP/2's `:authority`, which has no `Host` header).
fn own_host<'a>(headers: &'a HeaderMap, uri: &'a http::Uri) -> Option<&'a str> {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(http::uri::Authority::as_str))
}

/// Refuses a POST the browser marks cross-site, or whose `Origin` names another host than
/// `host` (the one the request was sent to), or that has an `Origin` but no known host.
/// The scheme counts over TLS: an `http://` origin of the same host is another origin (a
/// plain-HTTP page of the host). Served as plain HTTP (`--insecure-http`), the console is
/// either a test on loopback or behind a TLS-terminating proxy, so both schemes are its own.
fn same_origin(headers: &HeaderMap, host: Option<&str>, secure: bool) -> Result<(), StatusCode> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|site| site == "cross-site" || site == "same-site") {
        return Err(StatusCode::FORBIDDEN);
    }
    if let Some(origin) = header("origin") {
        let own = origin.strip_prefix("https://").or_else(|| match secure {
            true => None,
            false => origin.strip_prefix("http://"),
        });
        if host.is_none() || own != host {
            return Err(StatusCode::FORBIDDEN);
        }
    }
    Ok(())
}

/// Whether a POST's body is a form as a browser sends one:
/// `application/x-www-form-urlencoded`, with any parameters (`; charset=UTF-8`).
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The body, in a buffer wiped when dropped (the collected chunks are copied once, and
/// wiped too when this request held the only reference to them).
async fn read_body(body: Incoming) -> Result<Zeroizing<Vec<u8>>, StatusCode> {
    let collect = Limited::new(body, MAX_BODY).collect();
    match tokio::time::timeout(BODY_DEADLINE, collect).await {
        Ok(Ok(collected)) => {
            let bytes = collected.to_bytes();
            let copy = Zeroizing::new(bytes.to_vec());
            if let Ok(mut unique) = bytes.try_into_mut() {
                unique.as_mut().zeroize();
            }
            Ok(copy)
        }
        Ok(Err(_)) => Err(StatusCode::PAYLOAD_TOO_LARGE),
        Err(_) => Err(StatusCode::REQUEST_TIMEOUT),
    }
}

/// A form's or query string's fields, their values wiped when dropped.
pub type Fields = HashMap<String, Zeroizing<String>>;

/// The fields of a query string or form body (a name given twice keeps its first value).
fn fields(raw: &[u8]) -> Result<Fields, StatusCode> {
    let mut out = Fields::new();
    for (name, value) in url::form_urlencoded::parse(raw) {
        if out.len() >= MAX_FIELDS {
            return Err(StatusCode::BAD_REQUEST);
        }
        let value = Zeroizing::new(value.into_owned());
        out.entry(name.into_owned()).or_insert(value);
    }
    Ok(out)
}

/// The value of cookie `name` the request carries.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() <= 128)
}

/// The `Set-Cookie` value of a new session.
pub fn session_cookie_header(id: &str) -> String {
    format!("{COOKIE}={id}; Path=/; Secure; HttpOnly; SameSite=Strict")
}

/// The `Set-Cookie` value of the sign-in form's pre-session CSRF token (double submit: a
/// sign-in POST must carry the same value in its `csrf` field; `__Host-`, so no other host
/// can set it).
pub fn signin_cookie_header(token: &str) -> String {
    format!("{SIGNIN_COOKIE}={token}; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Strict")
}

/// The `Set-Cookie` value that clears the session cookie.
pub fn cleared_cookie_header() -> String {
    format!("{COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict")
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
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "A console form is sent as application/x-www-form-urlencoded; this request was not."
        }
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
            bare(status, "text/html; charset=utf-8", Bytes::from_owner(html)),
            None,
        ),
        Reply::PageWithCookie(status, html, cookie) => (
            bare(status, "text/html; charset=utf-8", Bytes::from_owner(html)),
            Some(cookie),
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

    /// `same_origin` of `h` as [`read`] calls it, for a request sent to `uri`.
    fn checked(h: &HeaderMap, uri: &str, secure: bool) -> Result<(), StatusCode> {
        let uri: http::Uri = uri.parse().unwrap();
        same_origin(h, own_host(h, &uri), secure)
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let mut h = HeaderMap::new();
        assert!(checked(&h, "/console/keys", true).is_ok());
        h.insert("origin", HeaderValue::from_static("https://evil.example"));
        h.insert("host", HeaderValue::from_static("127.0.0.1:8444"));
        assert!(checked(&h, "/console/keys", true).is_err());
        h.insert("origin", HeaderValue::from_static("http://127.0.0.1:8444"));
        assert!(
            checked(&h, "/console/keys", true).is_err(),
            "another scheme is another origin"
        );
        assert!(checked(&h, "/console/keys", false).is_ok());
        h.insert("origin", HeaderValue::from_static("https://127.0.0.1:8444"));
        assert!(checked(&h, "/console/keys", true).is_ok());
        assert!(
            checked(&h, "/console/keys", false).is_ok(),
            "behind a TLS-terminating proxy"
        );
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(checked(&h, "/console/keys", true).is_err());
    }

    #[test]
    fn without_a_host_header_the_uris_authority_is_the_host() {
        // HTTP/2: no Host header, the authority is in the request's URI
        let mut h = HeaderMap::new();
        h.insert("origin", HeaderValue::from_static("https://127.0.0.1:8444"));
        let h2 = "https://127.0.0.1:8444/console/keys";
        assert!(checked(&h, h2, true).is_ok());
        let other = "https://kms.example:8444/console/keys";
        assert!(checked(&h, other, true).is_err());
        // an Origin, and no host known at all: refused
        assert!(checked(&h, "/console/keys", true).is_err());
        // the Host header, when sent, is the one compared
        h.insert("host", HeaderValue::from_static("kms.example:8444"));
        assert!(checked(&h, h2, true).is_err());
        // no Origin (an older browser): the other checks decide
        assert!(checked(&HeaderMap::new(), "/console/keys", true).is_ok());
    }

    #[test]
    fn only_a_urlencoded_form_is_read() {
        let with = |value: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            is_form(&h)
        };
        assert!(with("application/x-www-form-urlencoded"));
        assert!(with("Application/X-WWW-Form-Urlencoded ; charset=UTF-8"));
        assert!(!with("multipart/form-data; boundary=x"));
        assert!(!with("application/json"));
        assert!(!with("text/plain"));
        assert!(!with("application/x-www-form-urlencoded-not"));
        assert!(!is_form(&HeaderMap::new()));
    }

    #[test]
    fn fields_are_bounded_and_cookie_is_found() {
        let many: String = (0..100).map(|i| format!("f{i}=1&")).collect();
        assert!(fields(many.as_bytes()).is_err());
        // form values are held in buffers wiped when dropped
        let form = fields(b"password=p%40ss&password=second").unwrap();
        let value: &Zeroizing<String> = &form["password"];
        assert_eq!(value.as_str(), "p@ss");
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; openkms_console=old; __Host-openkms_console=xyz"),
        );
        assert_eq!(cookie_value(&h, COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie_value(&h, SIGNIN_COOKIE), None);
    }
}
