//! One request, start to finish: read, authenticate, dispatch, render.
//!
//! [`App`] holds what every request needs. [`App::handle`] assigns the `RequestId`, reads the
//! body within its limit, merges parameters, refuses a parameter given twice or too long,
//! authenticates (a failure is charged to its source address, which may turn it into
//! `Throttling`; a success to its AccessKey's quota, when there is one), checks `Version` and
//! `Action`,
//! authorizes the caller for what the action touches, runs the action and renders the reply
//! — success or error — in the format asked for (`Format`, else `Accept`, else XML). Then
//! it writes the request's audit line and waits for it: a request whose line cannot be
//! written fails with `InternalFailure` unless the audit log is fail-open. It logs the action,
//! outcome code, status and latency, never parameters or bodies.
//!
//! The key service comes from the [`ServiceSlot`], once per request: while the server is
//! sealed every API request is answered the retryable `ServiceUnavailableTemporary` (and
//! `/readyz` 503). Requests under `/openkms/operator/` go to the Shamir seal's endpoints
//! (`handler/operator.rs`) when the server has that seal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::FutureExt as _;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use openkms_core::{KeyService, ReplayStore};
use time::OffsetDateTime;

use openkms_ops::Origin;

use crate::audit::{AuditLog, Facts, Record};
use crate::auth::nonce::SharedNonces;
use crate::auth::{Authenticator, RequestView};
use crate::codec::{self, Endpoint, Exchange};
use crate::operator::Operator;
use crate::rpc::reply::{self, Rendered};
use crate::rpc::request_id::RequestIds;
use crate::rpc::{Format, Params, RpcError};
use crate::slot::ServiceSlot;
use crate::throttle::Limits;

mod operator;

/// How long a request's body may take to arrive unless [`App::with_body_deadline`] says
/// otherwise: as long as its headers may.
pub const DEFAULT_BODY_DEADLINE: Duration = Duration::from_secs(30);

/// The largest request head (request line and headers) answered, in bytes; a larger one is
/// refused with 431 in the API's error format. The transport lets heads of up to twice this
/// through to the handler so that the refusal is this one, with a `RequestId` and an audit
/// line (see `server.rs`).
pub const MAX_HEAD_BYTES: usize = 128 * 1024;

/// Why the transport refused a connection's bytes before they made a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unparsed {
    /// Not HTTP/1.1: a malformed request line or header (the transport answered 400).
    Malformed,
    /// A head larger than the transport buffers at all (it answered 431).
    TooLarge,
}

/// Shared state of the request handler.
pub struct App {
    /// The key service (and its engine) while unsealed; empty while sealed.
    slot: Arc<ServiceSlot>,
    /// The Shamir seal's operator endpoints, when the server runs with that seal.
    operator: Option<Arc<Operator>>,
    auth: Authenticator,
    host_id: String,
    max_body: usize,
    /// How long a request's body may take to arrive once its headers have.
    body_deadline: Duration,
    /// Where every request is recorded; `None` records nothing.
    audit: Option<AuditLog>,
    /// Whether requests arrive over TLS (the `acs:SecureTransport` condition).
    secure: bool,
    /// Where each reply's `RequestId` comes from.
    request_ids: RequestIds,
    /// Failed-authentication and per-AccessKey throttles (shared with the console).
    limits: Arc<Limits>,
}

impl App {
    /// The handler over `service` (unsealed for good), accepting bodies up to `max_body`
    /// bytes.
    pub fn new(service: Arc<KeyService>, max_body: usize) -> Self {
        let region_id = service.region_id().to_owned();
        Self::over_slot(
            Arc::new(ServiceSlot::unsealed(service)),
            &region_id,
            max_body,
        )
    }

    /// The handler over whatever service `slot` holds (none while sealed), in `region_id`.
    pub fn over_slot(slot: Arc<ServiceSlot>, region_id: &str, max_body: usize) -> Self {
        let host_id = format!("openkms.{region_id}");
        Self {
            slot,
            operator: None,
            auth: Authenticator::default(),
            host_id,
            max_body,
            body_deadline: DEFAULT_BODY_DEADLINE,
            audit: None,
            secure: true,
            request_ids: RequestIds::default(),
            limits: Arc::new(Limits::default_for_server()),
        }
    }

    /// Throttles with `limits` instead of the default (failed authentications per source).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = Arc::new(limits);
        self
    }

    /// The throttles this handler applies, for another front end (the console) to apply the
    /// same per-AccessKey quotas.
    pub fn limits(&self) -> Arc<Limits> {
        Arc::clone(&self.limits)
    }

    /// Gives a request's body `deadline` to arrive (30 s unless set): a client that announces a
    /// body and stalls is answered `RequestTimeout` and its connection closed, instead of
    /// holding it for as long as it likes.
    #[must_use]
    pub fn with_body_deadline(mut self, deadline: Duration) -> Self {
        self.body_deadline = deadline;
        self
    }

    /// Says whether requests arrive over TLS (they do unless the server runs plain HTTP).
    #[must_use]
    pub fn over_tls(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Records every request (except `GET /healthz`) in `log`.
    #[must_use]
    pub fn with_audit(mut self, log: AuditLog) -> Self {
        self.audit = Some(log);
        self
    }

    /// Shares the replay window with the other nodes using the same store: every nonce is
    /// also recorded in `replay` (the binary passes the backend when nodes share it).
    #[must_use]
    pub fn with_shared_nonces(mut self, replay: Arc<dyn ReplayStore>) -> Self {
        self.auth = self.auth.with_shared_nonces(SharedNonces::new(replay));
        self
    }

    /// Keeps every nonce durably in `journal` (a single node on the embedded store), and
    /// refuses the nonces it `restored` from before the restart.
    #[must_use]
    pub fn with_nonce_journal(
        mut self,
        journal: crate::auth::journal::NonceJournal,
        restored: crate::auth::journal::Restored,
    ) -> Self {
        self.auth = self.auth.with_journal(journal, restored);
        self
    }

    /// Serves the Shamir seal's operator endpoints (`/openkms/operator/…`) through `operator`.
    #[must_use]
    pub fn with_operator(mut self, operator: Arc<Operator>) -> Self {
        self.operator = Some(operator);
        self
    }

    /// The key service behind the handler, while unsealed.
    pub fn service(&self) -> Option<Arc<KeyService>> {
        self.slot.service()
    }

    /// The slot the key service lives in.
    pub fn slot(&self) -> &Arc<ServiceSlot> {
        &self.slot
    }

    /// Handles one HTTP request from `peer` (the client's address, when known).
    pub async fn handle(
        &self,
        req: Request<Incoming>,
        peer: Option<SocketAddr>,
    ) -> Response<Full<Bytes>> {
        if req.method() == Method::GET {
            // Not audited: unauthenticated, and they touch no key.
            match req.uri().path() {
                "/healthz" => return respond(health()),
                "/readyz" => return respond(self.readiness().await),
                _ => {}
            }
        }
        let arrived = OffsetDateTime::now_utc();
        let started = Instant::now();
        let request_id = self.request_ids.next_id();
        let request_id = request_id.as_str();
        // Decoded once; the form body, when there is one, is added by `handle_request`.
        let params = Params::from_query(req.uri().query());
        let early = reply_format(&params, req.headers());
        let mut facts = Facts::default();
        let origin = Origin {
            source_ip: peer.map(|p| p.ip()),
            secure: self.secure,
        };
        let handled = std::panic::AssertUnwindSafe(
            self.handle_request(req, params, request_id, origin, &mut facts),
        );
        let (rendered, format) = match handled.catch_unwind().await {
            Ok(handled) => handled,
            Err(_) => (self.panicked(request_id, &mut facts), early),
        };
        let record = Record {
            time: arrived,
            request_id,
            source: peer,
            facts: &facts,
            status: rendered.status,
            latency_us: micros(started),
        };
        let rendered = self.audit(rendered, format, &record).await;
        log_outcome(&facts, &rendered, request_id, started);
        respond(rendered)
    }

    /// Records bytes the transport could not read as a request (it answered them itself, with
    /// no `RequestId`): one audit line with a `RequestId` of its own, so the refusal is on
    /// record. Nothing else is known of such a request.
    pub async fn record_unparsed(&self, peer: Option<SocketAddr>, why: Unparsed) {
        let (status, outcome) = match why {
            Unparsed::Malformed => (400, "MalformedRequest"),
            Unparsed::TooLarge => (431, "RequestHeaderFieldsTooLarge"),
        };
        let request_id = self.request_ids.next_id();
        let facts = Facts {
            outcome: Some(outcome),
            ..Facts::default()
        };
        tracing::debug!(
            request_id = request_id.as_str(),
            outcome,
            "unparsed request"
        );
        metrics::counter!("openkms_requests_total", "action" => "-", "code" => outcome)
            .increment(1);
        let Some(log) = &self.audit else {
            return;
        };
        let record = Record {
            time: OffsetDateTime::now_utc(),
            request_id: request_id.as_str(),
            source: peer,
            facts: &facts,
            status,
            latency_us: 0,
        };
        let _ = log.append(&record).await;
    }

    /// A bug, not bad input: answer in the API's error format instead of dropping the
    /// connection, and say nothing about the cause to the client.
    fn panicked(&self, request_id: &str, facts: &mut Facts) -> Rendered {
        tracing::error!(request_id, "request handler panicked");
        let internal = RpcError::Kms(openkms_core::KmsError::Corrupt).wire();
        facts.outcome = Some(internal.code);
        reply::error(Format::Json, &internal, request_id, &self.host_id)
    }

    /// Reads the form body into `params`, then answers in the format the request asks for
    /// (decided once the body is in: `Format` may travel there), which it returns too.
    async fn handle_request(
        &self,
        req: Request<Incoming>,
        mut params: Params,
        request_id: &str,
        origin: Origin,
        facts: &mut Facts,
    ) -> (Rendered, Format) {
        let (parts, body) = req.into_parts();
        if self.operator.is_some() && parts.uri.path().starts_with(operator::PREFIX) {
            let call = Call {
                format: Format::Json,
                request_id,
                origin,
            };
            let result = match head_fits(&parts) {
                Ok(()) => self.operator_call(&parts, body, params, call, facts).await,
                Err(e) => Err(e),
            };
            return (self.conclude(result, call, facts), Format::Json);
        }
        let (body, format) = match head_fits(&parts).and_then(|()| routed(&parts)) {
            Ok(()) => {
                let body = self.read_form(&parts.headers, body, &mut params).await;
                (body, reply_format(&params, &parts.headers))
            }
            // Not an RPC call, so not the RPC default: JSON unless asked otherwise.
            Err(e) => (Err(e), other_path_format(&params, &parts.headers)),
        };
        let call = Call {
            format,
            request_id,
            origin,
        };
        let result = match body {
            Ok(body) => self.api_call(&parts, params, body, call, facts).await,
            Err(e) => Err(e),
        };
        (self.conclude(result, call, facts), format)
    }

    /// The reply to a request that ended in `result`, its outcome noted in `facts`.
    fn conclude(
        &self,
        result: Result<Rendered, RpcError>,
        call: Call<'_>,
        facts: &mut Facts,
    ) -> Rendered {
        match result {
            Ok(rendered) => {
                facts.outcome = Some("OK");
                rendered
            }
            Err(e) => {
                facts.outcome = Some(e.wire().code);
                self.render_error(call.format, &e, call.request_id)
            }
        }
    }

    /// `/readyz`: the store answers (unsealed), or 503 (sealed, or the store is down).
    async fn readiness(&self) -> Rendered {
        match self.slot.engine() {
            Some(engine) => readiness(engine.kms().ready().await),
            None => sealed_readiness(),
        }
    }

    /// The body, whose pairs join `params` when it is a form.
    async fn read_form(
        &self,
        headers: &HeaderMap,
        body: Incoming,
        params: &mut Params,
    ) -> Result<Bytes, RpcError> {
        let body = self.read_body(body).await?;
        if is_form(headers) {
            params.add_form(&body);
        }
        Ok(body)
    }

    /// Writes the request's audit line and waits for it. When it cannot be written the reply
    /// becomes `InternalFailure`, unless the log is fail-open.
    async fn audit(&self, rendered: Rendered, format: Format, record: &Record<'_>) -> Rendered {
        let Some(log) = &self.audit else {
            return rendered;
        };
        match log.append(record).await {
            Ok(()) => rendered,
            Err(_) if log.fail_open() => rendered,
            Err(_) => self.render_error(format, &RpcError::AuditUnavailable, record.request_id),
        }
    }

    async fn api_call(
        &self,
        parts: &http::request::Parts,
        params: Params,
        body: Bytes,
        call: Call<'_>,
        facts: &mut Facts,
    ) -> Result<Rendered, RpcError> {
        let (method, headers) = (&parts.method, &parts.headers);
        facts.saw_claims(&params, headers);
        let endpoint = find_endpoint(&params, headers);
        if let Ok(endpoint) = &endpoint {
            facts.action = Some(endpoint.name.action);
        }
        // Sealed: no root key, so no AccessKey secret to check a signature with.
        let engine = self.slot.engine().ok_or(RpcError::Sealed)?;
        let service = engine.kms();
        screen(&params)?;
        let pending = endpoint.map(|endpoint| {
            // Decoded before authentication so that a refused request's audit line names
            // its key.
            let pending = endpoint.decode(&params, service);
            pending.audit(&params, &mut facts.event);
            pending
        });
        let view = RequestView {
            method: method.as_str(),
            params: &params,
            headers,
            body: &body,
        };
        let caller = match self.auth.authenticate(service, view).await {
            Ok(caller) => caller,
            Err(e) => return Err(self.limits.failed(e, call.origin.source_ip)),
        };
        facts.saw_caller(&caller);
        self.limits.admit(&caller)?;
        let pending = pending?;
        if !self.audit_has_room() {
            // Its line could not be written: refused before it changes anything.
            return Err(RpcError::AuditUnavailable);
        }
        let exchange = Exchange {
            engine: &engine,
            params: &params,
            caller: &caller,
            origin: call.origin,
            format: call.format,
            request_id: call.request_id,
            event: &mut facts.event,
        };
        pending.run(exchange).await
    }

    /// Whether a request may run as far as the audit log's free-space guard is concerned.
    fn audit_has_room(&self) -> bool {
        self.audit
            .as_ref()
            .is_none_or(|log| log.fail_open() || log.has_room())
    }

    async fn read_body(&self, body: Incoming) -> Result<Bytes, RpcError> {
        self.read_limited(body, self.max_body).await
    }

    /// The body, at most `limit` bytes, arrived within the body deadline: a client that
    /// announces a body and stalls is answered `RequestTimeout` (and its connection closed)
    /// instead of holding a connection slot (the API's and the operator's bodies alike).
    async fn read_limited(&self, body: Incoming, limit: usize) -> Result<Bytes, RpcError> {
        let collect = Limited::new(body, limit).collect();
        let Ok(collected) = tokio::time::timeout(self.body_deadline, collect).await else {
            return Err(RpcError::BodyTimeout);
        };
        match collected {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(RpcError::BodyTooLarge),
            Err(_) => Err(RpcError::BodyUnreadable),
        }
    }

    fn render_error(&self, format: Format, e: &RpcError, request_id: &str) -> Rendered {
        let wire = e.wire();
        // A sealed node's 503 is its expected answer, not a fault.
        if wire.status >= 500 && !matches!(e, RpcError::Sealed) {
            // The cause goes to the operator's log, never to the client.
            tracing::error!(request_id, error = %e, "internal failure");
        }
        reply::error(format, &wire, request_id, &self.host_id)
    }
}

/// How one request is answered: its reply format and id, and where it came from.
#[derive(Clone, Copy)]
struct Call<'a> {
    format: Format,
    request_id: &'a str,
    origin: Origin,
}

/// Refuses, before anything reads them, parameters that are ambiguous (a name given twice)
/// or too long ([`codec::bounds`]): nothing costly is done for such a request.
fn screen(params: &Params) -> Result<(), RpcError> {
    codec::bounds::check_count(params)?;
    if let Some(name) = params.repeated_name() {
        return Err(RpcError::repeated(name));
    }
    codec::bounds::check(params)
}

/// The codec of the request's `Version` (parameter or `x-acs-version`) and `Action`
/// (parameter or `x-acs-action`): KMS (2016-01-20) or RAM (2015-05-01).
fn find_endpoint(params: &Params, headers: &HeaderMap) -> Result<&'static Endpoint, RpcError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let version = params
        .optional("Version")
        .or_else(|| header("x-acs-version"));
    let version = match version {
        None => return Err(RpcError::MissingParameter("Version")),
        Some(v @ (codec::KMS_VERSION | codec::RAM_VERSION)) => v,
        Some(_) => return Err(RpcError::InvalidVersion),
    };
    let name = params.optional("Action").or_else(|| header("x-acs-action"));
    let name = name.ok_or(RpcError::MissingParameter("Action"))?;
    codec::endpoint(version, name).ok_or(RpcError::UnknownAction)
}

/// Refuses a head larger than [`MAX_HEAD_BYTES`], counted as it came on the wire: the
/// request line and every header line with its `: ` and CRLF.
fn head_fits(parts: &http::request::Parts) -> Result<(), RpcError> {
    let target = parts.uri.path_and_query().map_or(1, |t| t.as_str().len());
    let line = parts.method.as_str().len() + 1 + target + " HTTP/1.1\r\n".len();
    let headers: usize = parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    match line + headers <= MAX_HEAD_BYTES {
        true => Ok(()),
        false => Err(RpcError::HeadTooLarge),
    }
}

/// `POST /` or `GET /`; anything else is not an API call.
fn routed(parts: &http::request::Parts) -> Result<(), RpcError> {
    let method = &parts.method;
    if parts.uri.path() != "/" || (method != Method::POST && method != Method::GET) {
        return Err(RpcError::NotFound);
    }
    Ok(())
}

/// Whether the body is a form: its media type, compared case-insensitively and without its
/// parameters (`Application/X-WWW-Form-Urlencoded; charset=UTF-8` is one).
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| media_type(v).eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// The media type of a `Content-Type` value: before any `;`, without surrounding spaces.
fn media_type(value: &str) -> &str {
    value.split(';').next().unwrap_or_default().trim()
}

/// The reply format of a request: its `Format` parameter (query or form body), else what its
/// `Accept` header names, else XML, Alibaba's RPC default (see [`Format::negotiate`]).
fn reply_format(params: &Params, headers: &HeaderMap) -> Format {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    Format::negotiate(params.get("Format"), accept)
}

/// The format of the `InvalidAction.NotFound` answer to a request for another path or
/// method: what it asks for (`Format` or `Accept` naming XML), else JSON, like `/healthz`.
fn other_path_format(params: &Params, headers: &HeaderMap) -> Format {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    match (params.get("Format"), accept) {
        (Some(format), _) => Format::from_param(Some(format)),
        (None, Some(accept)) if accept.to_ascii_lowercase().contains("xml") => Format::Xml,
        (None, _) => Format::Json,
    }
}

fn health() -> Rendered {
    Rendered {
        status: 200,
        content_type: "application/json;charset=utf-8",
        body: Bytes::from_static(b"{\"Status\":\"ok\"}"),
    }
}

/// `/readyz`: 200 when the store answers (and so the root key, checked at start, is in use),
/// 503 otherwise, so a load balancer stops sending requests to a node that cannot serve them.
fn readiness(ready: bool) -> Rendered {
    let (status, body): (u16, &'static [u8]) = match ready {
        true => (200, b"{\"Status\":\"ready\"}"),
        false => (503, b"{\"Status\":\"unavailable\"}"),
    };
    Rendered {
        status,
        content_type: "application/json;charset=utf-8",
        body: Bytes::from_static(body),
    }
}

/// `/readyz` of a sealed server: 503 until it is unsealed.
fn sealed_readiness() -> Rendered {
    Rendered {
        status: 503,
        content_type: "application/json;charset=utf-8",
        body: Bytes::from_static(b"{\"Status\":\"sealed\"}"),
    }
}

fn respond(r: Rendered) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(r.body));
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(r.content_type),
    );
    resp
}

fn micros(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

fn log_outcome(facts: &Facts, r: &Rendered, request_id: &str, started: Instant) {
    let action = facts.action.unwrap_or("-");
    let elapsed = started.elapsed();
    tracing::debug!(
        request_id,
        action,
        status = r.status,
        latency_us = micros(started),
        "request"
    );
    // Recorded whether or not an exporter is installed (without one these are no-ops).
    let code = facts.outcome.unwrap_or("-");
    metrics::counter!("openkms_requests_total", "action" => action, "code" => code).increment(1);
    metrics::histogram!("openkms_request_duration_seconds", "action" => action)
        .record(elapsed.as_secs_f64());
}
