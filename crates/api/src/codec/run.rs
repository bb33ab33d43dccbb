//! Running one decoded request: the dispatch table and the generic path every operation
//! takes (decode, authorize and run through the engine, encode).

use std::future::Future;
use std::pin::Pin;

use openkms_core::KeyService;
use openkms_ops::{AuditEvent, Caller, Engine, OpName, Origin};

use super::spec::{ActionSpec, DRY_RUN};
use super::{Wire, version};
use crate::rpc::reply::{self, Format, Rendered};
use crate::rpc::{Params, RpcError};

/// A boxed future of a rendered reply.
pub type Reply<'a> = Pin<Box<dyn Future<Output = Result<Rendered, RpcError>> + Send + 'a>>;

/// What a request needs besides its decoded operation.
pub struct Exchange<'a> {
    /// The engine.
    pub engine: &'a Engine,
    /// The request's parameters (what a request that did not decode is checked against is
    /// read from them).
    pub params: &'a Params,
    /// The authenticated caller.
    pub caller: &'a Caller,
    /// Where it came from.
    pub origin: Origin,
    /// The reply format.
    pub format: Format,
    /// The reply's RequestId.
    pub request_id: &'a str,
    /// The audit facts the operation adds to.
    pub event: &'a mut AuditEvent,
}

/// A request decoded (or not) into its operation, waiting for authentication.
pub trait Pending: Send {
    /// Notes what the request names, for its audit line: the key of the decoded request, or
    /// of one that did not decode, its `KeyId` as sent.
    fn audit(&self, params: &Params, event: &mut AuditEvent);
    /// Authorizes, runs and renders it.
    fn run<'a>(self: Box<Self>, exchange: Exchange<'a>) -> Reply<'a>;
    /// Decides whether the caller may make it, without running it (a request that did not
    /// decode is judged by what its names touch).
    fn check<'a>(self: Box<Self>, exchange: Exchange<'a>) -> Checked<'a>;
}

/// A boxed future of an authorization decision.
pub type Checked<'a> = Pin<Box<dyn Future<Output = Result<(), RpcError>> + Send + 'a>>;

/// One served action: its name, parameters and decoder.
pub struct Endpoint {
    /// The operation's name.
    pub name: OpName,
    /// What it takes on the wire.
    pub spec: &'static ActionSpec,
    decode: fn(&Params, &KeyService) -> Box<dyn Pending>,
}

impl Endpoint {
    /// The API version it is served under.
    pub fn version(&self) -> &'static str {
        version(self.name.service)
    }

    /// Decodes a request's parameters into its pending operation.
    pub fn decode(&self, params: &Params, kms: &KeyService) -> Box<dyn Pending> {
        (self.decode)(params, kms)
    }

    const fn of<O: Wire>() -> Self {
        Self {
            name: O::NAME,
            spec: &O::SPEC,
            decode: decode::<O>,
        }
    }
}

macro_rules! table {
    ($($op:path),* $(,)?) => {
        /// Every served action, in registry order.
        static ENDPOINTS: &[Endpoint] = &[$(Endpoint::of::<$op>()),*];
    };
}
openkms_ops::for_each_operation!(table);

/// Every served action.
pub fn endpoints() -> &'static [Endpoint] {
    ENDPOINTS
}

/// The action `name` of API `version`, if served.
pub fn endpoint(version_name: &str, name: &str) -> Option<&'static Endpoint> {
    ENDPOINTS
        .iter()
        .find(|e| e.name.action == name && e.version() == version_name)
}

/// A decoded request: the operation or why it could not be read, and `DryRun`.
struct Decoded<O>(Result<(O, bool), RpcError>);

fn decode<O: Wire>(params: &Params, kms: &KeyService) -> Box<dyn Pending> {
    let op = dry_run::<O>(params).and_then(|dry| Ok((O::decode(params, kms)?, dry)));
    Box::new(Decoded::<O>(op))
}

/// `DryRun`, for the actions that take it (read before the other parameters).
fn dry_run<O: Wire>(params: &Params) -> Result<bool, RpcError> {
    match O::SPEC.params.contains(&DRY_RUN) {
        true => params.bool_or("DryRun", false),
        false => Ok(false),
    }
}

impl<O: Wire> Pending for Decoded<O> {
    fn audit(&self, params: &Params, event: &mut AuditEvent) {
        match &self.0 {
            Ok((op, _)) => op.audit_request(event),
            Err(_) => params
                .optional("KeyId")
                .into_iter()
                .for_each(|k| event.key(k)),
        }
    }

    fn run<'a>(self: Box<Self>, ex: Exchange<'a>) -> Reply<'a> {
        Box::pin(run::<O>(self.0, ex))
    }

    fn check<'a>(self: Box<Self>, ex: Exchange<'a>) -> Checked<'a> {
        Box::pin(async move {
            match self.0 {
                Ok((mut op, _)) => {
                    let checked = ex.engine.check(ex.caller, ex.origin, &mut op).await;
                    checked.map_err(O::error)
                }
                Err(_) => authorize_undecoded::<O>(&ex).await,
            }
        })
    }
}

/// Authorizes a request that did not decode against what its names touch
/// ([`Wire::fallback`]).
async fn authorize_undecoded<O: Wire>(ex: &Exchange<'_>) -> Result<(), RpcError> {
    let call = ex.engine.call(ex.caller, ex.origin);
    let fallback = O::fallback(ex.params, &call);
    let authorized = ex
        .engine
        .authorize_undecoded(ex.caller, ex.origin, O::NAME, fallback);
    authorized.await.map_err(O::error)
}

async fn run<O: Wire>(
    decoded: Result<(O, bool), RpcError>,
    ex: Exchange<'_>,
) -> Result<Rendered, RpcError> {
    let kms = ex.engine.kms().as_ref();
    let (op, dry_run) = match decoded {
        Ok(decoded) => decoded,
        Err(e) => {
            authorize_undecoded::<O>(&ex).await?;
            return Err(e);
        }
    };
    let output = ex
        .engine
        .run(ex.caller, ex.origin, op, ex.event)
        .await
        .map_err(O::error)?;
    if dry_run {
        // The dry-run actions have no side effects, so checking everything and then
        // withholding the result is exactly "would have succeeded" (§6.3).
        return Err(RpcError::DryRunOperation);
    }
    let reply = O::encode(&output, kms)?;
    Ok(reply::typed(
        ex.format,
        O::NAME.action,
        &reply,
        ex.request_id,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry names every served action once, each is found by its name and version,
    /// and every parameter the CLI shows has help.
    #[test]
    fn every_action_is_served_once_and_found_by_name() {
        assert_eq!(endpoints().len(), 76);
        for (i, e) in endpoints().iter().enumerate() {
            let found = endpoint(e.version(), e.name.action).map(|f| f.name);
            assert_eq!(found, Some(e.name), "{}", e.name.action);
            let twice = endpoints()[..i]
                .iter()
                .any(|o| o.name.action == e.name.action);
            assert!(!twice, "{} is registered twice", e.name.action);
            assert!(e.spec.params.iter().all(|p| !p.help.is_empty()));
        }
        assert!(endpoint(super::super::KMS_VERSION, "CreateUser").is_none());
        assert!(endpoint(super::super::RAM_VERSION, "Encrypt").is_none());
    }
}
