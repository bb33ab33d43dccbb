//! One request, start to finish: read, authenticate, dispatch, render.
//!
//! [`App`] holds what every request needs. [`App::handle`] assigns the `RequestId`, reads the
//! body within its limit, merges parameters, authenticates, checks `Version` and `Action`,
//! runs the action and renders the reply — success or error — in the format asked for. It
//! logs the action, outcome code, status and latency, never parameters or bodies.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::FutureExt as _;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use openkms_core::KeyService;

use crate::action::Action;
use crate::auth::{Authenticator, RequestView};
use crate::rpc::reply::{self, Rendered};
use crate::rpc::{Format, Params, RpcError};

/// The API version this server serves.
pub const API_VERSION: &str = "2016-01-20";

/// Shared state of the request handler.
pub struct App {
    service: Arc<KeyService>,
    auth: Authenticator,
    host_id: String,
    max_body: usize,
}

impl App {
    /// The handler over `service`, accepting bodies up to `max_body` bytes.
    pub fn new(service: Arc<KeyService>, max_body: usize) -> Self {
        let host_id = format!("openkms.{}", service.region_id());
        Self {
            service,
            auth: Authenticator::default(),
            host_id,
            max_body,
        }
    }

    /// The key service behind the handler.
    pub fn service(&self) -> &Arc<KeyService> {
        &self.service
    }

    /// Handles one HTTP request.
    pub async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let request_id = uuid::Uuid::new_v4().hyphenated().to_string().to_uppercase();
        let handled = std::panic::AssertUnwindSafe(self.handle_request(req, &request_id));
        match handled.catch_unwind().await {
            Ok(response) => response,
            Err(_) => {
                // A bug, not bad input: answer in the API's error format instead of dropping
                // the connection, and say nothing about the cause to the client.
                tracing::error!(request_id, "request handler panicked");
                let internal = RpcError::Kms(openkms_core::KmsError::Corrupt).wire();
                respond(reply::error(
                    Format::Json,
                    &internal,
                    &request_id,
                    &self.host_id,
                ))
            }
        }
    }

    async fn handle_request(
        &self,
        req: Request<Incoming>,
        request_id: &str,
    ) -> Response<Full<Bytes>> {
        let started = Instant::now();
        if req.uri().path() == "/healthz" && req.method() == Method::GET {
            return respond(health());
        }
        let (parts, body) = req.into_parts();
        let query = parts.uri.query().map(str::to_owned);
        let format = Format::from_param(query.as_deref().and_then(format_param).as_deref());
        let result = self
            .api_call(
                &parts.method,
                parts.uri.path(),
                query.as_deref(),
                &parts.headers,
                body,
            )
            .await;
        let (action, rendered) = match result {
            Ok((action, fields)) => (action, reply::success(format, action, fields, request_id)),
            Err((action, e)) => (action, self.render_error(format, &e, request_id)),
        };
        log_outcome(action, &rendered, request_id, started);
        respond(rendered)
    }

    async fn api_call(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: Incoming,
    ) -> Result<(&'static str, crate::action::Fields), (&'static str, RpcError)> {
        if path != "/" || (method != Method::POST && method != Method::GET) {
            return Err(("-", RpcError::NotFound));
        }
        let body = self.read_body(body).await.map_err(|e| ("-", e))?;
        let params = Params::parse(query, is_form(headers).then_some(&body[..]));
        let view = RequestView {
            method: method.as_str(),
            params: &params,
            headers,
            body: &body,
        };
        self.auth
            .authenticate(&self.service, view)
            .await
            .map_err(|e| ("-", e))?;
        let action = resolve_action(&params, headers).map_err(|e| ("-", e))?;
        let fields = action
            .run(&self.service, &params)
            .await
            .map_err(|e| (action.name(), e))?;
        Ok((action.name(), fields))
    }

    async fn read_body(&self, body: Incoming) -> Result<Bytes, RpcError> {
        match Limited::new(body, self.max_body).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(RpcError::BodyTooLarge),
            Err(_) => Err(RpcError::BodyUnreadable),
        }
    }

    fn render_error(&self, format: Format, e: &RpcError, request_id: &str) -> Rendered {
        let wire = e.wire();
        if wire.status >= 500 {
            // The cause goes to the operator's log, never to the client.
            tracing::error!(request_id, error = %e, "internal failure");
        }
        reply::error(format, &wire, request_id, &self.host_id)
    }
}

/// `Action` from the parameters or the `x-acs-action` header; `Version` must be ours.
fn resolve_action(params: &Params, headers: &HeaderMap) -> Result<Action, RpcError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let version = params
        .optional("Version")
        .or_else(|| header("x-acs-version"));
    match version {
        None => return Err(RpcError::MissingParameter("Version")),
        Some(API_VERSION) => {}
        Some(_) => return Err(RpcError::InvalidVersion),
    }
    let name = params.optional("Action").or_else(|| header("x-acs-action"));
    let name = name.ok_or(RpcError::MissingParameter("Action"))?;
    Action::from_name(name).ok_or(RpcError::UnknownAction)
}

/// The `Format` parameter from the query, read before the body so even early errors honour it.
fn format_param(query: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "Format")
        .map(|(_, v)| v.into_owned())
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

fn health() -> Rendered {
    Rendered {
        status: 200,
        content_type: "application/json;charset=utf-8",
        body: Bytes::from_static(b"{\"Status\":\"ok\"}"),
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

fn log_outcome(action: &str, r: &Rendered, request_id: &str, started: Instant) {
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::debug!(
        request_id,
        action,
        status = r.status,
        latency_us = micros,
        "request"
    );
}
