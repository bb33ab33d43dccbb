//! Running one API action for a console page, exactly as the API runs it.
//!
//! [`run`] takes the action's name and its parameters as the API names them, finds the
//! Alibaba codec's endpoint (the registry's table), checks the parameters' count and bounds
//! ([`openkms_api::codec::bounds`]), decodes them into the typed operation, and runs it
//! through the `openkms-ops` engine as the session's caller: authorization, execution and the
//! operation's audit facts are the engine's, so a policy that refuses an API call refuses the
//! same click. The reply is the API's JSON reply, parsed for the template; an error carries
//! the API's `Code`, message and `RequestId`. The reply's body is wiped once parsed; a page
//! that keeps a reply holding a secret (a revealed value, a decrypted plaintext) keeps it as
//! [`Secret`], whose strings are wiped when it is dropped. Then the audit line is written to the same
//! chained log, marked `"via":"console"` with the session's handle, and waited for: an action
//! whose line cannot be written fails, as an API call does (unless the log is fail-open).

use std::net::SocketAddr;
use std::time::Instant;

use openkms_api::audit::{Facts, Record, Via};
use openkms_api::codec::{self, Exchange};
use openkms_api::rpc::{Format, Params, RpcError};
use openkms_ops::{AuditEvent, Origin};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use zeroize::{Zeroize, Zeroizing};

use crate::Console;
use crate::session::Session;

/// An API error as a page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ApiError {
    /// The API's error `Code`.
    pub code: &'static str,
    /// Its message.
    pub message: String,
    /// The `RequestId` (also in the audit line).
    pub request_id: String,
    /// The HTTP status the API would have answered.
    pub status: u16,
}

/// One action's result: the API's JSON reply, or its error.
pub type Outcome = Result<Value, ApiError>;

/// A JSON reply that holds a secret (GetSecretValue's value, Decrypt's plaintext): its strings
/// are wiped when it is dropped. Serialized as the reply itself.
pub type Secret = Zeroizing<Json>;

/// A JSON value whose [`Zeroize`] wipes every string in it (member names are the API's, not
/// secrets). Deliberately without `Debug`.
#[derive(Default, Serialize)]
#[serde(transparent)]
pub struct Json(pub Value);

impl Zeroize for Json {
    fn zeroize(&mut self) {
        wipe(&mut self.0);
    }
}

/// `value` kept as a [`Secret`].
pub fn secret(value: Value) -> Secret {
    Zeroizing::new(Json(value))
}

/// Wipes every string in `value` (each is left empty).
fn wipe(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(members) => members.values_mut().for_each(wipe),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Who runs an action and from where.
pub struct Actor<'a> {
    /// The signed-in session.
    pub session: &'a Session,
    /// The client's address.
    pub peer: Option<SocketAddr>,
}

/// Runs API action `action` of `version` with `params` (names as the API takes them) for
/// `actor`, and writes its audit line.
pub async fn run(
    console: &Console,
    actor: &Actor<'_>,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
) -> Outcome {
    let arrived = OffsetDateTime::now_utc();
    let started = Instant::now();
    let request_id = console.request_ids.next_id();
    let request_id = request_id.as_str();
    let mut facts = Facts {
        access_key_id: Some(actor.session.caller.access_key_id.clone()).filter(|id| !id.is_empty()),
        user: Some(actor.session.caller.user.clone()),
        via: Some(Via {
            front_end: "console",
            session: actor.session.handle.clone(),
        }),
        ..Facts::default()
    };
    let pairs = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let params = Params::from_pairs(pairs);
    let origin = Origin {
        source_ip: actor.peer.map(|p| p.ip()),
        secure: console.config.secure,
    };
    let result = dispatch(
        console, actor, version, action, &params, origin, request_id, &mut facts,
    )
    .await;
    let status = result.as_ref().map_or_else(|e| e.wire().status, |_| 200);
    facts.outcome = Some(match &result {
        Ok(_) => "OK",
        Err(e) => e.wire().code,
    });
    let record = Record {
        time: arrived,
        request_id,
        source: actor.peer,
        facts: &facts,
        status,
        latency_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    };
    let result = match audit(console, &record).await {
        Ok(()) => result,
        Err(e) => Err(e),
    };
    result.map_err(|e| shown(&e, request_id))
}

/// A console event that is not an API action: `ConsoleSignIn` (outcome `OK` or
/// `SignInFailed`) and `ConsoleSignOut`, written to the same chained log with `via: console`.
/// A failed sign-in names no user (it did not authenticate): its line is compact and counts
/// against the log's budget of unauthenticated lines, so failures cannot flood the log.
pub struct Event<'a> {
    /// `ConsoleSignIn` or `ConsoleSignOut`.
    pub action: &'static str,
    /// The identity, once proven.
    pub caller: Option<&'a openkms_ops::Caller>,
    /// The AccessKeyId a failed AccessKey sign-in claimed.
    pub claimed: Option<&'a str>,
    /// The session's public handle (`-` when none was opened).
    pub session: &'a str,
    /// `OK` or `SignInFailed`.
    pub outcome: &'static str,
    /// The HTTP status of the reply.
    pub status: u16,
}

/// Writes `event`'s audit line; false when it could not be written (a successful sign-in
/// is then undone).
pub async fn record(console: &Console, peer: Option<SocketAddr>, event: Event<'_>) -> bool {
    let Some(log) = &console.audit else {
        return true;
    };
    let request_id = console.request_ids.next_id();
    let access_key_id = match event.caller {
        Some(c) => Some(c.access_key_id.clone()).filter(|id| !id.is_empty()),
        None => event.claimed.map(|c| c.chars().take(128).collect()),
    };
    let facts = Facts {
        action: Some(event.action),
        access_key_id,
        user: event.caller.map(|c| c.user.clone()),
        outcome: Some(event.outcome),
        via: Some(Via {
            front_end: "console",
            session: event.session.to_owned(),
        }),
        ..Facts::default()
    };
    let record = Record {
        time: OffsetDateTime::now_utc(),
        request_id: request_id.as_str(),
        source: peer,
        facts: &facts,
        status: event.status,
        latency_us: 0,
    };
    let written = log.append(&record).await.is_ok();
    if !written {
        tracing::error!(
            action = event.action,
            "the console's audit line could not be written"
        );
    }
    written
}

/// Decodes and runs the action; its JSON reply.
#[allow(clippy::too_many_arguments)]
async fn dispatch(
    console: &Console,
    actor: &Actor<'_>,
    version: &str,
    action: &str,
    params: &Params,
    origin: Origin,
    request_id: &str,
    facts: &mut Facts,
) -> Result<Value, RpcError> {
    let endpoint = codec::endpoint(version, action).ok_or(RpcError::UnknownAction)?;
    facts.action = Some(endpoint.name.action);
    let engine = console.slot.engine().ok_or(RpcError::Sealed)?;
    console
        .limits
        .admit_key(&quota_key(&actor.session.caller))?;
    codec::bounds::check_count(params)?;
    codec::bounds::check(params)?;
    let pending = endpoint.decode(params, engine.kms());
    pending.audit(params, &mut facts.event);
    if !audit_has_room(console) {
        return Err(RpcError::AuditUnavailable);
    }
    let mut event = AuditEvent::default();
    std::mem::swap(&mut event, &mut facts.event);
    let exchange = Exchange {
        engine: &engine,
        params,
        caller: &actor.session.caller,
        origin,
        format: Format::Json,
        request_id,
        event: &mut event,
    };
    let rendered = pending.run(exchange).await;
    facts.event = event;
    // the body (a plaintext, a secret's value) is wiped once parsed; it is this request's own
    // buffer, so taking it as a Vec copies nothing
    let body = Zeroizing::new(Vec::<u8>::from(rendered?.body));
    Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// The per-AccessKey quota a caller's actions are charged to: its AccessKeyId, or for a
/// password session (no AccessKey) `console-user:<name>`, which no AccessKeyId can be.
fn quota_key(caller: &openkms_ops::Caller) -> String {
    match caller.access_key_id.is_empty() {
        true => format!("console-user:{}", caller.user),
        false => caller.access_key_id.clone(),
    }
}

fn audit_has_room(console: &Console) -> bool {
    console
        .audit
        .as_ref()
        .is_none_or(|log| log.fail_open() || log.has_room())
}

/// Writes the line; a failure is the action's failure unless the log is fail-open.
async fn audit(console: &Console, record: &Record<'_>) -> Result<(), RpcError> {
    let Some(log) = &console.audit else {
        return Ok(());
    };
    match log.append(record).await {
        Ok(()) => Ok(()),
        Err(_) if log.fail_open() => Ok(()),
        Err(_) => Err(RpcError::AuditUnavailable),
    }
}

/// `e` as a page shows it.
fn shown(e: &RpcError, request_id: &str) -> ApiError {
    let wire = e.wire();
    if wire.status >= 500 && !matches!(e, RpcError::Sealed) {
        tracing::error!(request_id, error = %e, "console action failed");
    }
    ApiError {
        code: wire.code,
        message: wire.message,
        request_id: request_id.to_owned(),
        status: wire.status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_replys_strings_are_wiped() {
        let mut reply = secret(serde_json::json!({"SecretData": "s3cret",
            "VersionStages": {"VersionStage": ["ACSCurrent"]}, "Size": 6}));
        assert_eq!(
            serde_json::to_string(&*reply).unwrap(),
            r#"{"SecretData":"s3cret","VersionStages":{"VersionStage":["ACSCurrent"]},"Size":6}"#
        );
        reply.zeroize();
        assert_eq!(
            reply.0,
            serde_json::json!({"SecretData": "", "VersionStages": {"VersionStage": [""]},
                "Size": 6})
        );
    }
}
