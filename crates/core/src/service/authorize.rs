//! Authorization: may this user do this action on this resource?
//!
//! The root identity may do everything. Any other user is decided by the policies attached to
//! it and, when the request touches a key, by that key's policy (a key without one has the
//! default policy, which hands the decision to the user's policies):
//!
//! 1. a Deny in the user's policies or in the key policy (for this user) refuses;
//! 2. an Allow in the key policy naming this user allows;
//! 3. an Allow in the user's policies allows, if the key policy's account-wide grant
//!    (`acs:ram::<account>:*`) covers the action, or no key is involved;
//! 4. anything else refuses ([`KmsError::Forbidden`]).
//!
//! A key is named by id, ARN or alias (then both the alias's ARN and the key's are the
//! resources, so a policy on either matches), or by a ciphertext, whose key is the one that
//! made it. A user's parsed policies are cached until a policy or attachment changes.

use std::sync::Arc;

use super::identity::ROOT_USER;
use super::{KeyRef, KeyService};
use crate::ciphertext;
use crate::error::KmsError;
use crate::policy::{
    self, ConditionContext, Decision, KeyPolicyDecision, Policy, PolicyKind, Request,
};

/// What a request touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Not a key: these resource ARNs (RAM users and policies, or `*` for account-wide
    /// actions such as CreateKey and ListKeys).
    Resources(Vec<String>),
    /// The key a `KeyId` (or `ResourceId`) parameter names.
    Key(KeyRef),
    /// The key that made a ciphertext.
    Ciphertext(Vec<u8>),
    /// A secret by name: its ARN, judged with its secret policy as a key's with its key
    /// policy.
    Secret(String),
}

/// One authorization question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest {
    /// The action as policies name it, e.g. `kms:Encrypt` or `ram:CreateUser`.
    pub action: String,
    /// What it touches.
    pub target: Target,
    /// Facts for conditions.
    pub context: ConditionContext,
}

/// The default key policy: the account's RAM identities, as their own policies allow.
pub fn default_key_policy(account_id: &str) -> String {
    format!(
        r#"{{"Version":"1","Statement":[{{"Sid":"kms default key policy","Effect":"Allow","Principal":{{"RAM":["acs:ram::{account_id}:*"]}},"Action":["kms:*"],"Resource":["*"]}}]}}"#
    )
}

impl KeyService {
    /// Allows the request or answers [`KmsError::Forbidden`]. For a key named by alias, the
    /// answer is the key id the decision was made for: the caller must use that key, not
    /// resolve the alias again, or a concurrent UpdateAlias could slip another key in; an
    /// alias that names no key is `AliasNotFound` once the caller may ask about it.
    pub async fn authorize(
        &self,
        user: &str,
        request: AccessRequest,
    ) -> Result<Option<String>, KmsError> {
        if user == ROOT_USER {
            return Ok(None);
        }
        // Resolved once: the decision and the caller's key are the same key.
        let pinned = match &request.target {
            Target::Key(key @ KeyRef::Alias(_)) => Some(self.resolve(key).await),
            _ => None,
        };
        let alias_key = pinned.as_ref().and_then(|r| r.as_ref().ok());
        let Some((resources, key_policy)) = self.resources_of(&request.target, alias_key).await?
        else {
            // A ciphertext no key here made: Decrypt refuses it with its one error.
            return Ok(None);
        };
        let grants = self.grants(user).await?;
        let asked = Request {
            action: request.action,
            resources,
            context: request.context,
            principal: format!("acs:ram::{}:user/{user}", self.account_id),
        };
        let account_principal = format!("acs:ram::{}:*", self.account_id);
        let by_key = match key_policy {
            Some(text) => key_policy_decision(&text, &asked, &account_principal),
            None => KeyPolicyDecision::Delegated,
        };
        let by_user = policy::evaluate(grants.iter(), &asked);
        match (by_user, by_key) {
            (Decision::ExplicitlyDenied, _) | (_, KeyPolicyDecision::Denied) => {
                return Err(KmsError::Forbidden);
            }
            (_, KeyPolicyDecision::Granted) | (Decision::Allowed, KeyPolicyDecision::Delegated) => {
            }
            _ => return Err(KmsError::Forbidden),
        }
        pinned.transpose()
    }

    /// The resource ARNs and key policy (`None` when no key is involved) of a target, whose
    /// alias (if it names one) resolved to `alias_key`; `None` for a ciphertext of no known
    /// key.
    async fn resources_of(
        &self,
        target: &Target,
        alias_key: Option<&String>,
    ) -> Result<Option<(Vec<String>, Option<String>)>, KmsError> {
        match target {
            Target::Resources(arns) => Ok(Some((arns.clone(), None))),
            Target::Key(key) => {
                let mut arns = Vec::with_capacity(2);
                let key_id = match key {
                    KeyRef::Id(id) => Some(id.clone()),
                    KeyRef::Alias(name) => {
                        arns.push(self.alias_arn(name));
                        alias_key.cloned()
                    }
                };
                let Some(key_id) = key_id else {
                    return Ok(Some((arns, None)));
                };
                arns.push(self.key_arn(&key_id));
                Ok(Some((arns, self.key_policy_of(&key_id).await?)))
            }
            Target::Secret(name) => {
                let policy = self.secret_policy_of(name).await?;
                Ok(Some((vec![self.secret_arn(name)], policy)))
            }
            Target::Ciphertext(blob) => {
                let Ok(parsed) = ciphertext::parse(blob) else {
                    return Ok(None);
                };
                let Some(version) = self.load_version(parsed.version_id).await? else {
                    return Ok(None);
                };
                let policy = self.key_policy_of(&version.key_id).await?;
                Ok(Some((vec![self.key_arn(&version.key_id)], policy)))
            }
        }
    }

    /// The key's policy document; the default one when it has none or does not exist (then
    /// the action itself answers KeyNotFound, after the user's policies allowed asking).
    async fn key_policy_of(&self, key_id: &str) -> Result<Option<String>, KmsError> {
        match self.load_key(key_id).await {
            Ok(key) => Ok(key.record.policy.clone()),
            Err(KmsError::KeyNotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A user's identity policies, parsed, from the cache or the store.
    async fn grants(&self, user: &str) -> Result<Arc<[Policy]>, KmsError> {
        if let Some(grants) = self.cache.grants(user) {
            return Ok(grants);
        }
        let generation = self.cache.grant_generation();
        let mut policies = Vec::new();
        for attachment in self.store.list_user_attachments(user).await? {
            let record = self
                .policy_record(attachment.policy_type, &attachment.policy_name)
                .await?;
            // A stored document was validated when created; one that no longer parses
            // grants nothing.
            if let Some(parsed) = record.and_then(|r| Policy::parse(&r.document).ok()) {
                policies.push(parsed);
            }
        }
        let grants: Arc<[Policy]> = policies.into();
        self.cache
            .put_loaded_grants(user, grants.clone(), generation);
        Ok(grants)
    }
}

/// A stored key policy that does not parse (it predates validation) grants nothing.
fn key_policy_decision(text: &str, asked: &Request, account: &str) -> KeyPolicyDecision {
    match Policy::parse_as(text, PolicyKind::Key) {
        Ok(p) => policy::evaluate_key_policy(&p, asked, account),
        Err(_) => KeyPolicyDecision::NotApplicable,
    }
}
