//! RAM-style policies: the document language and its evaluation, with no I/O.
//!
//! A policy is `{"Version":"1","Statement":[{"Effect":"Allow"|"Deny","Action":…,
//! "Resource":…,"Condition":{…}}]}` as Alibaba RAM writes it (`Action`/`Resource` a string or a
//! list, `*` and `?` wildcards; `NotAction`/`NotResource` also accepted). [`Policy::parse`]
//! validates a document once; [`evaluate`] decides a [`Request`] against any number of
//! policies: an explicit Deny wins, otherwise an Allow is needed, otherwise the request is
//! implicitly denied. Conditions are in [`condition`]. Who holds which policy, and where the
//! request's facts come from, is decided elsewhere.

pub mod condition;
mod pattern;

use serde_json::Value;

pub use condition::{Condition, ConditionContext};

/// Largest policy document accepted, in bytes (RAM's limit).
pub const MAX_POLICY_BYTES: usize = 6144;

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
    /// Parses and validates a policy document.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        if text.len() > MAX_POLICY_BYTES {
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
            Some(Value::Array(items)) => items.iter().map(statement).collect::<Result<_, _>>()?,
            Some(item @ Value::Object(_)) => vec![statement(item)?],
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

impl Statement {
    fn applies(&self, request: &Request) -> bool {
        self.actions
            .matches(std::slice::from_ref(&request.action), true)
            && self.resources.matches(&request.resources, false)
            && self.conditions.iter().all(|c| c.holds(&request.context))
    }
}

impl Matcher {
    /// Whether any of `values` is selected (actions compare case-insensitively).
    fn matches(&self, values: &[String], ignore_case: bool) -> bool {
        let hit = |patterns: &[String], v: &str| {
            patterns.iter().any(|p| pattern::matches(p, v, ignore_case))
        };
        match self {
            Self::Only(patterns) => values.iter().any(|v| hit(patterns, v)),
            Self::AllBut(patterns) => values.iter().any(|v| !hit(patterns, v)),
        }
    }
}

fn statement(value: &Value) -> Result<Statement, PolicyError> {
    let s = value
        .as_object()
        .ok_or(PolicyError::Malformed("a statement is not an object"))?;
    let effect = match s.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return Err(PolicyError::Malformed("Effect must be Allow or Deny")),
    };
    Ok(Statement {
        effect,
        actions: matcher(s, "Action", "NotAction")?,
        resources: matcher(s, "Resource", "NotResource")?,
        conditions: match s.get("Condition") {
            None => Vec::new(),
            Some(c) => condition::parse(c)?,
        },
    })
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
