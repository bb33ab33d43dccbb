//! RAM-style policies: the document language and its evaluation, with no I/O.
//!
//! A policy is `{"Version":"1","Statement":[{"Effect":"Allow"|"Deny","Action":…,
//! "Resource":…,"Condition":{…}}]}` as Alibaba RAM writes it (`Action`/`Resource` a string or a
//! list, `*` and `?` wildcards; `NotAction`/`NotResource` also accepted). [`Policy::parse`]
//! validates a document once; [`evaluate`] decides a [`Request`] against any number of
//! policies: an explicit Deny wins, otherwise an Allow is needed, otherwise the request is
//! implicitly denied. Conditions are in [`condition`]. Who holds which policy, and where the
//! request's facts come from, is decided elsewhere.
//!
//! Identity policies (attached to users) have no `Principal`; key policies name one in every
//! statement (`"*"` or `{"RAM": [ARN patterns]}`), and [`evaluate_key_policy`] tells a grant to
//! the caller itself from the account-wide grant (`acs:ram::<account>:*`), which only hands
//! the decision to the caller's identity policies, as in Alibaba's default key policy.

pub mod condition;
mod pattern;

use serde_json::Value;

pub use condition::{Condition, ConditionContext};

/// Largest identity policy document accepted, in bytes (RAM's limit).
pub const MAX_POLICY_BYTES: usize = 6144;
/// Largest key policy document accepted, in bytes (KMS's limit).
pub const MAX_KEY_POLICY_BYTES: usize = 32_768;

/// Why a policy document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not JSON, or not the RAM policy shape; says which part.
    #[error("malformed policy document: {0}")]
    Malformed(&'static str),
    /// Larger than [`MAX_POLICY_BYTES`].
    #[error("policy document is too large")]
    TooLarge,
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Grants, unless a Deny matches too.
    Allow,
    /// Refuses, whatever else allows.
    Deny,
}

/// Which values a statement applies to: the listed ones, or all but the listed ones.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Matcher {
    Only(Vec<String>),
    AllBut(Vec<String>),
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    effect: Effect,
    actions: Matcher,
    resources: Matcher,
    conditions: Vec<Condition>,
    /// Who the statement is about (key policies); `None`: the holder of the policy.
    principals: Option<Vec<String>>,
}

/// A validated policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    statements: Vec<Statement>,
}

/// What is being asked: an action on resources, with facts for conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `kms:<Action>`, e.g. `kms:Encrypt`.
    pub action: String,
    /// ARNs the request touches: the key's, and the alias's when named through an alias.
    pub resources: Vec<String>,
    /// Facts conditions may test.
    pub context: ConditionContext,
    /// The caller's ARN (`acs:ram::<account>:user/<name>`), tested by key-policy principals.
    pub principal: String,
}

/// Which kind of document is parsed: they differ only in `Principal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to users: statements must not name a `Principal`.
    Identity,
    /// Attached to a key: every statement names its `Principal`.
    Key,
}

/// The outcome of [`evaluate_key_policy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPolicyDecision {
    /// A statement denies the caller.
    Denied,
    /// A statement allows the caller by name (or by a pattern narrower than the account).
    Granted,
    /// Only the account-wide grant matched: the identity policies decide.
    Delegated,
    /// No statement is about this caller and action.
    NotApplicable,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// An Allow matched and no Deny did.
    Allowed,
    /// A Deny matched.
    ExplicitlyDenied,
    /// Nothing allowed it.
    ImplicitlyDenied,
}

impl Policy {
    /// Parses and validates an identity policy document.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        Self::parse_as(text, PolicyKind::Identity)
    }

    /// Parses and validates a policy document of the given kind.
    pub fn parse_as(text: &str, kind: PolicyKind) -> Result<Self, PolicyError> {
        let max = match kind {
            PolicyKind::Identity => MAX_POLICY_BYTES,
            PolicyKind::Key => MAX_KEY_POLICY_BYTES,
        };
        if text.len() > max {
            return Err(PolicyError::TooLarge);
        }
        let doc: Value =
            serde_json::from_str(text).map_err(|_| PolicyError::Malformed("not JSON"))?;
        let doc = doc
            .as_object()
            .ok_or(PolicyError::Malformed("not a JSON object"))?;
        match doc.get("Version").and_then(Value::as_str) {
            Some("1") => {}
            _ => return Err(PolicyError::Malformed("Version must be \"1\"")),
        }
        let statements = match doc.get("Statement") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| statement(i, kind))
                .collect::<Result<_, _>>()?,
            Some(item @ Value::Object(_)) => vec![statement(item, kind)?],
            _ => return Err(PolicyError::Malformed("Statement must be a list")),
        };
        Ok(Self { statements })
    }

    /// The decision of this policy alone.
    pub fn evaluate(&self, request: &Request) -> Decision {
        evaluate([self], request)
    }
}

/// Decides `request` against every policy together: Deny wins, then Allow, else implicit deny.
pub fn evaluate<'a>(policies: impl IntoIterator<Item = &'a Policy>, request: &Request) -> Decision {
    let mut allowed = false;
    for statement in policies.into_iter().flat_map(|p| &p.statements) {
        if !statement.applies(request) {
            continue;
        }
        match statement.effect {
            Effect::Deny => return Decision::ExplicitlyDenied,
            Effect::Allow => allowed = true,
        }
    }
    match allowed {
        true => Decision::Allowed,
        false => Decision::ImplicitlyDenied,
    }
}

/// Decides `request` against a key policy whose account-wide principal is `account_principal`
/// (`acs:ram::<account>:*`): a matching Deny wins, then a grant naming the caller, then the
/// account-wide grant, which only delegates to the caller's identity policies.
pub fn evaluate_key_policy(
    policy: &Policy,
    request: &Request,
    account_principal: &str,
) -> KeyPolicyDecision {
    let mut outcome = KeyPolicyDecision::NotApplicable;
    for statement in &policy.statements {
        if !statement.applies(request) {
            continue;
        }
        match statement.effect {
            Effect::Deny => return KeyPolicyDecision::Denied,
            Effect::Allow if statement.names_caller(request, account_principal) => {
                outcome = KeyPolicyDecision::Granted;
            }
            Effect::Allow if outcome == KeyPolicyDecision::NotApplicable => {
                outcome = KeyPolicyDecision::Delegated;
            }
            Effect::Allow => {}
        }
    }
    outcome
}

impl Statement {
    fn applies(&self, request: &Request) -> bool {
        self.principal_matches(request)
            && self
                .actions
                .matches(std::slice::from_ref(&request.action), true)
            && self.resources.matches(&request.resources, false)
            && self.conditions.iter().all(|c| c.holds(&request.context))
    }

    fn principal_matches(&self, request: &Request) -> bool {
        self.principals.as_ref().is_none_or(|patterns| {
            patterns
                .iter()
                .any(|p| pattern::matches(p, &request.principal, false))
        })
    }

    /// Whether a principal pattern narrower than the account selects the caller. A pattern
    /// that covers the account-wide principal itself (`acs:ram::<account>:*`, `*`,
    /// `acs:ram::*:*`, …) only delegates.
    fn names_caller(&self, request: &Request, account_principal: &str) -> bool {
        self.principals.as_ref().is_some_and(|patterns| {
            patterns.iter().any(|p| {
                !pattern::matches(p, account_principal, false)
                    && pattern::matches(p, &request.principal, false)
            })
        })
    }
}

impl Matcher {
    /// Whether the request's `values` are selected (actions compare case-insensitively): for
    /// a list, when any value is listed (a key named through its alias is both); for a
    /// `Not…` list, only when none is, so naming a key through its alias cannot slip past
    /// an exclusion of the key.
    fn matches(&self, values: &[String], ignore_case: bool) -> bool {
        let hit = |patterns: &[String], v: &str| {
            patterns.iter().any(|p| pattern::matches(p, v, ignore_case))
        };
        match self {
            Self::Only(patterns) => values.iter().any(|v| hit(patterns, v)),
            Self::AllBut(patterns) => !values.iter().any(|v| hit(patterns, v)),
        }
    }
}

fn statement(value: &Value, kind: PolicyKind) -> Result<Statement, PolicyError> {
    let s = value
        .as_object()
        .ok_or(PolicyError::Malformed("a statement is not an object"))?;
    let effect = match s.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return Err(PolicyError::Malformed("Effect must be Allow or Deny")),
    };
    let actions = matcher(s, "Action", "NotAction")?;
    let resources = matcher(s, "Resource", "NotResource")?;
    if kind == PolicyKind::Key {
        key_statement_scope(&actions, &resources)?;
    }
    Ok(Statement {
        effect,
        actions,
        resources,
        conditions: match s.get("Condition") {
            None => Vec::new(),
            Some(c) => condition::parse(c)?,
        },
        principals: principals(s.get("Principal"), kind)?,
    })
}

/// A key policy speaks of its own key only: `kms:` actions, and `Resource` `*`.
fn key_statement_scope(actions: &Matcher, resources: &Matcher) -> Result<(), PolicyError> {
    let kms_only = matches!(actions, Matcher::Only(list)
        if list.iter().all(|a| a.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("kms:"))));
    if !kms_only {
        return Err(PolicyError::Malformed(
            "a key policy's Action must list kms: actions",
        ));
    }
    match resources {
        Matcher::Only(list) if list.iter().all(|r| r == "*") => Ok(()),
        _ => Err(PolicyError::Malformed(
            "a key policy's Resource must be \"*\"",
        )),
    }
}

/// `Principal`: absent in identity policies; `"*"` or `{"RAM": …}` in key policies.
fn principals(value: Option<&Value>, kind: PolicyKind) -> Result<Option<Vec<String>>, PolicyError> {
    match (kind, value) {
        (PolicyKind::Identity, None) => Ok(None),
        (PolicyKind::Identity, Some(_)) => Err(PolicyError::Malformed(
            "a policy attached to users cannot name a Principal",
        )),
        (PolicyKind::Key, None) => Err(PolicyError::Malformed(
            "each key policy statement needs a Principal",
        )),
        (PolicyKind::Key, Some(Value::String(s))) if s == "*" => Ok(Some(vec!["*".to_owned()])),
        (PolicyKind::Key, Some(Value::Object(map))) => match map.get("RAM") {
            Some(ram) if map.len() == 1 => Ok(Some(strings(ram)?)),
            _ => Err(PolicyError::Malformed(
                "Principal must be \"*\" or {\"RAM\": [ARNs]}",
            )),
        },
        (PolicyKind::Key, Some(_)) => Err(PolicyError::Malformed(
            "Principal must be \"*\" or {\"RAM\": [ARNs]}",
        )),
    }
}

fn matcher(
    s: &serde_json::Map<String, Value>,
    only: &str,
    all_but: &str,
) -> Result<Matcher, PolicyError> {
    match (s.get(only), s.get(all_but)) {
        (Some(v), None) => Ok(Matcher::Only(strings(v)?)),
        (None, Some(v)) => Ok(Matcher::AllBut(strings(v)?)),
        _ => Err(PolicyError::Malformed(
            "each statement needs Action (or NotAction) and Resource (or NotResource)",
        )),
    }
}

/// A string or a non-empty list of strings.
pub(crate) fn strings(value: &Value) -> Result<Vec<String>, PolicyError> {
    let list = match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or(PolicyError::Malformed("a list holds a non-string"))
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(PolicyError::Malformed(
                "expected a string or a list of strings",
            ));
        }
    };
    match list.is_empty() {
        true => Err(PolicyError::Malformed("empty list")),
        false => Ok(list),
    }
}
