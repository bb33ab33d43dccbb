//! The engine: every operation runs through [`Engine::run`], the same way, once each step.
//!
//! 1. authorize: the root identity may do everything; any other caller is checked for every
//!    [`Touch`] the operation lists, by the core's policy evaluation, and a key named by alias
//!    is replaced by the key id that was checked;
//! 2. execute the operation through the core;
//! 3. note what it acted on in the [`AuditEvent`].
//!
//! A refused request changes nothing: the decision is made before the operation runs.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use openkms_core::policy::ConditionContext;
use openkms_core::service::{AccessRequest, ROOT_USER, Target};
use openkms_core::{EncryptionContext, KeyRef, KeyService, KmsError};

use crate::{AuditEvent, OpName, Operation, Touch};

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The AccessKeyId that signed the request.
    pub access_key_id: String,
    /// The user owning that AccessKey.
    pub user: String,
}

impl Caller {
    /// Whether the caller is the root identity, which every policy allows.
    pub fn is_root(&self) -> bool {
        self.user == ROOT_USER
    }
}

/// Where a request came from, for policy conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The client's address, when known.
    pub source_ip: Option<IpAddr>,
    /// Whether it came over TLS.
    pub secure: bool,
}

/// One request's context as operations see it: the core, who is calling and from where.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    /// The key service.
    pub kms: &'a KeyService,
    /// Who is calling.
    pub caller: &'a Caller,
    /// Where the request came from (for policy conditions).
    pub origin: Origin,
}

impl Call<'_> {
    /// Whether the caller may do `name` on the key `key_id`: for an operation that lists
    /// many keys and must leave out those the caller may not see.
    pub async fn allows(&self, name: OpName, key_id: &str) -> Result<bool, KmsError> {
        let touch = Touch::named(KeyRef::Id(key_id.to_owned()));
        match self.authorize(name, vec![touch]).await {
            Ok(()) => Ok(true),
            Err(KmsError::Forbidden) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether the caller may do `name` on `key` with `context`, as a [`Touch::Key`]: an
    /// alias's ARN is judged beside its key's, and the key is pinned to the id that was
    /// checked (resolved once, for root too), which the answer is: the caller must use it, not
    /// resolve the alias again.
    pub async fn authorize_key(
        &self,
        name: OpName,
        key: &KeyRef,
        context: &EncryptionContext,
    ) -> Result<String, KmsError> {
        let mut pinned = key.clone();
        self.authorize(name, vec![Touch::key_with(&mut pinned, context)])
            .await?;
        self.kms.resolve(&pinned).await
    }

    /// Checks `touches` for the action `name` (root is allowed everything): for an operation
    /// that needs a second permission beside its own.
    pub async fn authorize_touches(
        &self,
        name: OpName,
        touches: Vec<Touch<'_>>,
    ) -> Result<(), KmsError> {
        self.authorize(name, touches).await
    }

    /// Refuses (`Forbidden`) a caller other than root administering the Secrets Manager's
    /// default key: disabling it, scheduling its deletion or changing its policy, description
    /// or deletion protection would make every secret created without `EncryptionKeyId`
    /// unreadable or destroyed, whatever the caller's key policies grant.
    pub async fn guard_internal_key(&self, key_id: &str) -> Result<(), KmsError> {
        match !self.caller.is_root() && self.kms.is_secrets_default_key(key_id).await? {
            true => Err(KmsError::Forbidden),
            false => Ok(()),
        }
    }

    /// Checks every touch; a key named by alias is pinned to the key id that was checked.
    async fn authorize(&self, name: OpName, touches: Vec<Touch<'_>>) -> Result<(), KmsError> {
        if self.caller.is_root() {
            return Ok(());
        }
        let action = name.policy_action();
        for touch in touches {
            let (target, context, pin) = split(touch);
            let request = AccessRequest {
                action: action.clone(),
                target,
                context: self.conditions(context.as_deref()),
            };
            let checked = self.kms.authorize(&self.caller.user, request).await?;
            if let (Some(key), Some(id)) = (pin, checked) {
                *key = KeyRef::Id(id);
            }
        }
        Ok(())
    }

    fn conditions(&self, context: Option<&EncryptionContext>) -> ConditionContext {
        let encryption_context: BTreeMap<String, String> = context
            .map(|c| {
                c.entries()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        ConditionContext {
            source_ip: self.origin.source_ip,
            current_time: self.kms.clock().now(),
            secure_transport: self.origin.secure,
            encryption_context,
        }
    }
}

/// Runs operations: authorize, execute, audit.
pub struct Engine {
    kms: Arc<KeyService>,
}

impl Engine {
    /// The engine over `kms`.
    pub fn new(kms: Arc<KeyService>) -> Self {
        Self { kms }
    }

    /// The key service behind the engine.
    pub fn kms(&self) -> &Arc<KeyService> {
        &self.kms
    }

    /// One request's context.
    pub fn call<'a>(&'a self, caller: &'a Caller, origin: Origin) -> Call<'a> {
        Call {
            kms: &self.kms,
            caller,
            origin,
        }
    }

    /// Authorizes, runs and audits `op` for `caller`. The event names the key as the request
    /// named it (unless the front end noted that already, before authenticating), then the
    /// key and version the run used.
    pub async fn run<O: Operation>(
        &self,
        caller: &Caller,
        origin: Origin,
        mut op: O,
        event: &mut AuditEvent,
    ) -> Result<O::Output, KmsError> {
        if event.key_id.is_none() {
            op.audit_request(event);
        }
        self.check(caller, origin, &mut op).await?;
        let output = op.execute(&self.call(caller, origin)).await?;
        O::audit_output(&output, event);
        Ok(output)
    }

    /// Decides whether `caller` may make the request `op`, without running it; a key named
    /// by alias is pinned in `op` to the key that was checked.
    pub async fn check<O: Operation>(
        &self,
        caller: &Caller,
        origin: Origin,
        op: &mut O,
    ) -> Result<(), KmsError> {
        if caller.is_root() {
            // Nothing to decide, so nothing to list: the hot path of the root identity.
            return Ok(());
        }
        let call = self.call(caller, origin);
        call.authorize(O::NAME, op.touches(&call)).await
    }

    /// Authorizes a request that could not be decoded whole, against what the names it does
    /// carry touch (`fallback`, read leniently by its codec): a refused caller learns nothing
    /// of its parameters' validity.
    pub async fn authorize_undecoded(
        &self,
        caller: &Caller,
        origin: Origin,
        name: OpName,
        fallback: Vec<Touch<'_>>,
    ) -> Result<(), KmsError> {
        self.call(caller, origin).authorize(name, fallback).await
    }
}

/// A touch as the core's target, its context, and the key reference to pin.
fn split(
    touch: Touch<'_>,
) -> (
    Target,
    Option<Cow<'_, EncryptionContext>>,
    Option<&mut KeyRef>,
) {
    match touch {
        Touch::Key { key, context } => (
            Target::Key(key.clone()),
            context.map(Cow::Borrowed),
            Some(key),
        ),
        Touch::Named { key, context } => (Target::Key(key), context.map(Cow::Owned), None),
        Touch::Ciphertext { blob, context } => {
            (Target::Ciphertext(blob.into_owned()), context, None)
        }
        Touch::Resources(arns) => (Target::Resources(arns), None, None),
        Touch::Secret(name) => (Target::Secret(name), None, None),
    }
}
