//! What the fuzz targets share: reading a fuzz input as an HTTP request, and one key service
//! (in memory, with a known root AccessKey and a clock the target sets) to authenticate and
//! decode against.
//!
//! The request form is text, so the seed corpus is readable and made from real requests:
//!
//! ```text
//! POST Action=Encrypt&KeyId=k&...        <- method, a space, the raw query string
//! host: kms.cn-hangzhou.aliyuncs.com     <- headers, one a line, until an empty line
//! x-acs-date: 2024-01-01T00:00:00Z
//!
//! KeyId=k&Plaintext=aGk%3D               <- the body, bytes as they are
//! ```
//!
//! Not here: what each target checks (see `fuzz_targets/`, and `docs/fuzzing.md`).

use std::sync::{Arc, OnceLock};

use http::{HeaderMap, HeaderName, HeaderValue};
use openkms_core::service::RootAccessKey;
use openkms_core::{KeyService, ManualClock, OsRandom, RootKey, SecretBytes, ServiceConfig};
use openkms_store_tests::memory::MemoryStore;

/// The root AccessKey of the shared service: the one the signature test vectors use.
pub const ACCESS_KEY_ID: &str = "testakid";
/// Its secret.
pub const ACCESS_KEY_SECRET: &str = "testsecret";
/// The clock's time when a request names none: 2024-01-01T00:00:00Z, the vectors' date.
pub const DEFAULT_NOW: i64 = 1_704_067_200;

/// A fuzz input read as an HTTP request (see the module documentation).
pub struct RawRequest<'a> {
    /// The method, as sent.
    pub method: &'a str,
    /// The raw query string (no `?`); `None` when the first line has no space.
    pub query: Option<&'a str>,
    /// The headers that are valid HTTP header names and values.
    pub headers: HeaderMap,
    /// The body.
    pub body: &'a [u8],
}

impl<'a> RawRequest<'a> {
    /// Reads `data`; `None` when the request line or a header line is not UTF-8.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (head, body) = split_head(data);
        let head = std::str::from_utf8(head).ok()?;
        let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let first = lines.next().unwrap_or("");
        let (method, query) = match first.split_once(' ') {
            Some((m, q)) => (m, Some(q)),
            None => (first, None),
        };
        let mut headers = HeaderMap::new();
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let name = HeaderName::from_bytes(name.trim().as_bytes());
            let value = HeaderValue::from_str(value.trim());
            if let (Ok(name), Ok(value)) = (name, value) {
                headers.append(name, value);
            }
        }
        Some(Self {
            method,
            query,
            headers,
            body,
        })
    }

    /// The first value of header `name` as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The head (request line and headers) and the body: split at the first empty line.
fn split_head(data: &[u8]) -> (&[u8], &[u8]) {
    let at = data.windows(2).position(|w| w == b"\n\n");
    let crlf = data.windows(4).position(|w| w == b"\r\n\r\n");
    match (at, crlf) {
        (Some(a), Some(c)) if c + 1 < a => (&data[..c], &data[c + 4..]),
        (Some(a), _) => (&data[..a], &data[a + 2..]),
        (None, Some(c)) => (&data[..c], &data[c + 4..]),
        (None, None) => (data, &[]),
    }
}

/// The key service every target that needs one shares, its clock and a runtime to drive it.
pub struct Shared {
    /// A single-threaded runtime.
    pub runtime: tokio::runtime::Runtime,
    /// The service, over a store in memory holding only the root AccessKey.
    pub service: Arc<KeyService>,
    /// Its clock, which a target sets to the time a request claims.
    pub clock: Arc<ManualClock>,
}

/// The shared service, made on first use.
pub fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(make_shared)
}

fn make_shared() -> Shared {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let clock = Arc::new(ManualClock::new(DEFAULT_NOW));
    let service = runtime.block_on(async {
        let rng = Arc::new(OsRandom::new());
        let root = RootKey::generate(rng.as_ref());
        let config = ServiceConfig {
            region_id: "cn-hangzhou".into(),
            account_id: None,
            cache_ttl_ms: None,
        };
        let store = Arc::new(MemoryStore::default());
        let service = KeyService::open(store, root, clock.clone(), rng, config)
            .await
            .expect("the service opens");
        let ak = RootAccessKey {
            access_key_id: ACCESS_KEY_ID.into(),
            secret: SecretBytes::new(ACCESS_KEY_SECRET.into()),
        };
        service
            .ensure_root_access_key(&ak)
            .await
            .expect("the root AccessKey is stored");
        service
    });
    Shared {
        runtime,
        service: Arc::new(service),
        clock,
    }
}

/// Seconds since the epoch of an RFC 3339 `text`, as the server reads timestamps.
pub fn rfc3339_seconds(text: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

/// Percent-decodes `text` (no `+` rule) into a string, `None` when not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}
