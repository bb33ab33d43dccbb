//! openkms-console: the web console, a front end over the same typed operations as the API.
//!
//! Served by `openkms server` on a listener of its own, under `/console/`, through the api
//! crate's transport ([`openkms_api::serve`] with this crate's [`Console`] as its
//! [`openkms_api::Handler`]): the same TLS, connection limits and deadlines. Pages are
//! rendered on the server from templates embedded in the binary (`templates/`, minijinja);
//! one small script and one stylesheet are static files (`static/`), so the
//! Content-Security-Policy allows no inline script at all.
//!
//! Every action a page takes is one API action run exactly as the API runs it
//! ([`action`]): the Alibaba codec decodes the form's values into the typed operation (so
//! every value has the API's bounds and checks), the `openkms-ops` engine authorizes it
//! against the signed-in identity's policies and runs it, and the request's audit line is
//! written to the same hash-chained log, marked `"via":"console"` with the session's public
//! handle. There is no second code path to the core.
//!
//! Sessions ([`session`]) are random server-side ids in a `Secure; HttpOnly;
//! SameSite=Strict` cookie with idle and absolute timeouts; every POST carries the
//! session's CSRF token; sign-in is throttled per source ([`signin`]). The pages
//! ([`pages`]) are one module each; the navigation lists them, so a new area (as Secrets
//! was) is one module and one entry in [`pages::NAV`].
#![deny(missing_docs)]

pub mod action;
mod assets;
mod http;
pub mod pages;
pub mod session;
pub mod signin;
mod view;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use openkms_api::Unparsed;
use openkms_api::audit::AuditLog;
use openkms_api::rpc::request_id::RequestIds;
use openkms_api::slot::ServiceSlot;

pub use session::SessionLimits;

/// What the console shows about the server and needs from it.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// The build's version.
    pub version: &'static str,
    /// Where keys are stored (e.g. `SQLite at /var/lib/openkms/openkms.db`), for the status
    /// page.
    pub store: String,
    /// The audit log's active file (its directory holds the rotated ones), if the log is on.
    pub audit_path: Option<PathBuf>,
    /// Whether the console is served over TLS (the cookie is `Secure` either way).
    pub secure: bool,
    /// Session timeouts and the cap on open sessions.
    pub sessions: SessionLimits,
}

/// The console: shared state of every console request.
pub struct Console {
    slot: Arc<ServiceSlot>,
    audit: Option<AuditLog>,
    config: ConsoleConfig,
    sessions: session::Sessions,
    guard: signin::Guard,
    limits: Arc<openkms_api::throttle::Limits>,
    store_errors: signin::StoreErrors,
    views: view::Views,
    request_ids: RequestIds,
    started: Instant,
}

impl Console {
    /// The console over the service in `slot`, writing its audit lines to `audit`.
    pub fn new(slot: Arc<ServiceSlot>, audit: Option<AuditLog>, config: ConsoleConfig) -> Self {
        Self {
            sessions: session::Sessions::new(config.sessions),
            slot,
            audit,
            config,
            guard: signin::Guard::default(),
            limits: Arc::new(openkms_api::throttle::Limits::none()),
            store_errors: signin::StoreErrors::default(),
            views: view::Views::new(),
            request_ids: RequestIds::default(),
            started: Instant::now(),
        }
    }
}

impl Console {
    /// Applies the API's per-AccessKey quotas (`limits`, the API handler's own) to console
    /// actions too; a password session is charged as `console-user:<name>`.
    #[must_use]
    pub fn with_limits(mut self, limits: Arc<openkms_api::throttle::Limits>) -> Self {
        self.limits = limits;
        self
    }
}

impl openkms_api::Handler for Console {
    async fn handle(
        &self,
        req: ::http::Request<Incoming>,
        peer: Option<SocketAddr>,
    ) -> ::http::Response<Full<Bytes>> {
        http::handle(self, req, peer).await
    }

    async fn record_unparsed(&self, _peer: Option<SocketAddr>, _why: Unparsed) {
        // Bytes that were not a request reached no page and no action: nothing to record.
    }
}
