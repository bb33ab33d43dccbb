//! The stage rules of the Secrets Manager (alibaba-kms-api-next.md §5.2), as pure functions
//! over a secret's labels (label → version id) and its versions (oldest first).
//!
//! `ACSCurrent` and `ACSPrevious` are the only built-in labels; every other label (also
//! `ACSPending`, `ACSNext`) is custom. Each label marks one version; a version without a label
//! is deprecated. No I/O: the service reads the state, applies one of these, and writes the
//! result as one change under the secret's revision.

use std::collections::BTreeMap;

use crate::error::{KmsError, SecretError};
use crate::store::SecretVersion;

/// The label of the version read by default.
pub const CURRENT: &str = "ACSCurrent";
/// The label the former current version gets.
pub const PREVIOUS: &str = "ACSPrevious";
/// The most versions a secret keeps (Alibaba: 10 for Generic secrets).
pub const MAX_VERSIONS: usize = 10;

/// A secret's labels: label → version id.
pub type Labels = BTreeMap<String, String>;

/// Moves `label` to `version`; when it is ACSCurrent and leaves another version, that one
/// gets ACSPrevious (rules 2, 3 and 5). For UpdateSecretVersionStage this is unverified
/// (§8.9): Alibaba documents it for PutSecretValue only, and no SDK or client source says
/// more; it mirrors PutSecretValue and AWS, so a "move current back" keeps a previous.
fn move_label(labels: &mut Labels, label: &str, version: &str) {
    if label == CURRENT {
        if let Some(old) = labels.get(CURRENT).filter(|old| *old != version).cloned() {
            labels.insert(PREVIOUS.to_owned(), old);
        }
    }
    labels.insert(label.to_owned(), version.to_owned());
}

/// PutSecretValue of `version`: the given labels (ACSCurrent when none are given) move to it
/// (rules 2 and 3).
pub fn put(labels: &Labels, version: &str, given: Option<&[String]>) -> Labels {
    let mut next = labels.clone();
    let current = [CURRENT.to_owned()];
    for label in given.unwrap_or(&current) {
        move_label(&mut next, label, version);
    }
    next
}

/// UpdateSecretVersionStage (rules 5 and 6): `label` moves to `move_to`, or is removed from
/// `remove_from` when no `move_to` is given (custom labels only). `remove_from`, when given,
/// must carry the label; `move_to` must be a kept version.
pub fn update(
    labels: &Labels,
    versions: &[SecretVersion],
    label: &str,
    remove_from: Option<&str>,
    move_to: Option<&str>,
) -> Result<Labels, KmsError> {
    let mismatch = KmsError::Secret(SecretError::StageMismatch);
    if let Some(from) = remove_from {
        if labels.get(label).map(String::as_str) != Some(from) {
            return Err(mismatch);
        }
    }
    let mut next = labels.clone();
    match move_to {
        Some(to) if versions.iter().any(|v| v.version_id == to) => {
            move_label(&mut next, label, to);
            Ok(next)
        }
        Some(_) => Err(KmsError::Secret(SecretError::NotFound)),
        None if is_builtin(label) => Err(mismatch),
        None => {
            next.remove(label);
            Ok(next)
        }
    }
}

/// Whether `label` is ACSCurrent or ACSPrevious (which can be moved but not removed).
pub fn is_builtin(label: &str) -> bool {
    label == CURRENT || label == PREVIOUS
}

/// The versions to drop so at most [`MAX_VERSIONS`] remain: the oldest without a label
/// (rule 7), never `adding` (the version being added); `LimitExceeded` when too many carry
/// labels.
pub fn over_cap(
    labels: &Labels,
    versions: &[SecretVersion],
    adding: &str,
) -> Result<Vec<String>, KmsError> {
    let excess = versions.len().saturating_sub(MAX_VERSIONS);
    let labelled = |id: &str| labels.values().any(|v| v == id);
    let dropped: Vec<String> = versions
        .iter()
        .filter(|v| !labelled(&v.version_id) && v.version_id != adding)
        .take(excess)
        .map(|v| v.version_id.clone())
        .collect();
    match dropped.len() == excess {
        true => Ok(dropped),
        false => Err(KmsError::Secret(SecretError::LimitExceeded)),
    }
}

/// The labels on `version`, in byte order.
pub fn of_version(labels: &Labels, version: &str) -> Vec<String> {
    let on = labels.iter().filter(|(_, v)| v.as_str() == version);
    on.map(|(label, _)| label.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SecretDataType;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(l, v)| ((*l).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn versions(ids: &[&str]) -> Vec<SecretVersion> {
        let at = |i: usize| i64::try_from(i).unwrap_or(0);
        ids.iter()
            .enumerate()
            .map(|(i, id)| SecretVersion {
                secret_name: "s".into(),
                version_id: (*id).into(),
                created_at: at(i),
                data_type: SecretDataType::Text,
            })
            .collect()
    }

    #[test]
    fn put_shifts_current_to_previous() {
        let one = labels(&[(CURRENT, "v1")]);
        let two = put(&one, "v2", None);
        assert_eq!(two, labels(&[(CURRENT, "v2"), (PREVIOUS, "v1")]));
        let three = put(&two, "v3", None);
        assert_eq!(three, labels(&[(CURRENT, "v3"), (PREVIOUS, "v2")]));
    }

    #[test]
    fn put_with_custom_labels_leaves_current_alone() {
        let two = labels(&[(CURRENT, "v2"), (PREVIOUS, "v1")]);
        let given = ["ACSPending".to_owned()];
        let next = put(&two, "v3", Some(&given));
        assert_eq!(
            next,
            labels(&[(CURRENT, "v2"), (PREVIOUS, "v1"), ("ACSPending", "v3")])
        );
        let both = [CURRENT.to_owned(), "Mine".to_owned()];
        let next = put(&two, "v3", Some(&both));
        assert_eq!(
            next,
            labels(&[(CURRENT, "v3"), (PREVIOUS, "v2"), ("Mine", "v3")])
        );
        assert_eq!(
            put(&two, "v3", Some(&[])),
            two,
            "no labels: deprecated on arrival"
        );
    }

    #[test]
    fn update_moves_removes_and_refuses() {
        let vs = versions(&["v1", "v2", "v3"]);
        let state = labels(&[(CURRENT, "v2"), (PREVIOUS, "v1"), ("X", "v3")]);
        let moved = update(&state, &vs, CURRENT, None, Some("v3")).unwrap();
        assert_eq!(
            moved,
            labels(&[(CURRENT, "v3"), (PREVIOUS, "v2"), ("X", "v3")])
        );
        let with_from = update(&state, &vs, CURRENT, Some("v2"), Some("v1")).unwrap();
        assert_eq!(
            with_from,
            labels(&[(CURRENT, "v1"), (PREVIOUS, "v2"), ("X", "v3")])
        );
        let removed = update(&state, &vs, "X", Some("v3"), None).unwrap();
        assert_eq!(removed, labels(&[(CURRENT, "v2"), (PREVIOUS, "v1")]));
        let mismatch = KmsError::Secret(SecretError::StageMismatch);
        for bad in [
            update(&state, &vs, "X", Some("v1"), None),
            update(&state, &vs, CURRENT, Some("v2"), None),
            update(&state, &vs, PREVIOUS, Some("v1"), None),
        ] {
            assert_eq!(format!("{:?}", bad.unwrap_err()), format!("{mismatch:?}"));
        }
        let unknown = update(&state, &vs, "X", None, Some("v9")).unwrap_err();
        assert!(matches!(unknown, KmsError::Secret(SecretError::NotFound)));
    }

    #[test]
    fn the_cap_drops_the_oldest_unlabelled() {
        let ids: Vec<String> = (1..=11).map(|i| format!("v{i:02}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let vs = versions(&refs);
        let state = labels(&[(CURRENT, "v11"), (PREVIOUS, "v10"), ("Old", "v01")]);
        assert_eq!(over_cap(&state, &vs, "v11").unwrap(), ["v02"]);
        assert!(over_cap(&state, &vs[..10], "v10").unwrap().is_empty());
        let all: Labels = ids
            .iter()
            .map(|id| (format!("L{id}"), id.clone()))
            .collect();
        let full = over_cap(&all, &vs, "v11").unwrap_err();
        assert!(matches!(full, KmsError::Secret(SecretError::LimitExceeded)));
    }

    #[test]
    fn the_cap_never_drops_the_version_being_added() {
        let ids: Vec<String> = (1..=11).map(|i| format!("v{i:02}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let vs = versions(&refs);
        // every older version labelled, the new one not: nothing may go
        let all: Labels = ids[..10]
            .iter()
            .map(|id| (format!("L{id}"), id.clone()))
            .collect();
        let full = over_cap(&all, &vs, "v11").unwrap_err();
        assert!(matches!(full, KmsError::Secret(SecretError::LimitExceeded)));
    }
}
