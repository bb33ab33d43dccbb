//! The policy table: for each (policy, action, resource, condition facts) case, allowed or
//! denied — Deny over Allow, wildcard edges, NotAction/NotResource, and every condition key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use openkms_core::policy::{ConditionContext, Decision, Policy, PolicyError, Request, evaluate};

const KEY: &str = "acs:kms:cn-hangzhou:1234:key/k-1";
const ALIAS: &str = "acs:kms:cn-hangzhou:1234:alias/Apollo/WorkKey";
/// 2026-06-01T00:00:00Z.
const JUNE: i64 = 1_780_272_000;

fn request(action: &str, resources: &[&str]) -> Request {
    Request {
        action: action.into(),
        resources: resources.iter().map(|r| (*r).to_owned()).collect(),
        context: ConditionContext {
            source_ip: Some("10.1.2.3".parse().unwrap()),
            current_time: JUNE,
            secure_transport: true,
            encryption_context: BTreeMap::from([("app".into(), "apollo".into())]),
        },
    }
}

fn allow(action: &str, resource: &str, condition: &str) -> String {
    let cond = if condition.is_empty() {
        String::new()
    } else {
        format!(r#","Condition":{condition}"#)
    };
    format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":["{action}"],"Resource":["{resource}"]{cond}}}]}}"#
    )
}

fn decide(policy: &str, action: &str, resources: &[&str]) -> Decision {
    Policy::parse(policy)
        .unwrap()
        .evaluate(&request(action, resources))
}

#[test]
fn actions_and_resources() {
    use Decision::*;
    let cases: &[(&str, &str, &str, &[&str], Decision)] = &[
        ("kms:Encrypt", KEY, "kms:Encrypt", &[KEY], Allowed),
        ("kms:Encrypt", KEY, "kms:Decrypt", &[KEY], ImplicitlyDenied),
        ("kms:*", "*", "kms:Decrypt", &[KEY], Allowed),
        ("kms:encrypt", KEY, "kms:Encrypt", &[KEY], Allowed),
        (
            "kms:Enc*",
            "acs:kms:*:*:key/*",
            "kms:Encrypt",
            &[KEY],
            Allowed,
        ),
        (
            "kms:Encrypt",
            "acs:kms:*:*:key/k-?",
            "kms:Encrypt",
            &[KEY],
            Allowed,
        ),
        (
            "kms:Encrypt",
            "acs:kms:*:*:key/k-??",
            "kms:Encrypt",
            &[KEY],
            ImplicitlyDenied,
        ),
        ("kms:Encrypt", ALIAS, "kms:Encrypt", &[KEY, ALIAS], Allowed),
        (
            "kms:Encrypt",
            ALIAS,
            "kms:Encrypt",
            &[KEY],
            ImplicitlyDenied,
        ),
        (
            "kms:Encrypt",
            "acs:kms:*:*:alias/Apollo/*",
            "kms:Encrypt",
            &[KEY, ALIAS],
            Allowed,
        ),
        ("ecs:*", "*", "kms:Encrypt", &[KEY], ImplicitlyDenied),
    ];
    for (a, r, action, res, want) in cases {
        assert_eq!(
            decide(&allow(a, r, ""), action, res),
            *want,
            "{a} {r} {action}"
        );
    }
}

#[test]
fn explicit_deny_wins_over_any_allow() {
    let allow_all = Policy::parse(&allow("kms:*", "*", "")).unwrap();
    let deny = Policy::parse(
        r#"{"Version":"1","Statement":{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}}"#,
    )
    .unwrap();
    assert_eq!(
        evaluate([&allow_all, &deny], &request("kms:Decrypt", &[KEY])),
        Decision::ExplicitlyDenied
    );
    assert_eq!(
        evaluate([&deny, &allow_all], &request("kms:Decrypt", &[KEY])),
        Decision::ExplicitlyDenied
    );
    assert_eq!(
        evaluate([&allow_all, &deny], &request("kms:Encrypt", &[KEY])),
        Decision::Allowed
    );
    assert_eq!(
        evaluate([], &request("kms:Encrypt", &[KEY])),
        Decision::ImplicitlyDenied
    );
}

#[test]
fn not_action_and_not_resource() {
    let p = r#"{"Version":"1","Statement":[{"Effect":"Allow","NotAction":"kms:ScheduleKeyDeletion","NotResource":"acs:kms:*:*:key/secret-*"}]}"#;
    assert_eq!(decide(p, "kms:Encrypt", &[KEY]), Decision::Allowed);
    assert_eq!(
        decide(p, "kms:ScheduleKeyDeletion", &[KEY]),
        Decision::ImplicitlyDenied
    );
    assert_eq!(
        decide(p, "kms:Encrypt", &["acs:kms:cn-hangzhou:1234:key/secret-1"]),
        Decision::ImplicitlyDenied
    );
}

#[test]
fn conditions() {
    use Decision::*;
    let cases: &[(&str, Decision)] = &[
        (r#"{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}"#, Allowed),
        (
            r#"{"IpAddress":{"acs:SourceIp":["192.168.0.0/16","10.1.2.3"]}}"#,
            Allowed,
        ),
        (
            r#"{"IpAddress":{"acs:SourceIp":"192.168.0.0/16"}}"#,
            ImplicitlyDenied,
        ),
        (
            r#"{"NotIpAddress":{"acs:SourceIp":"192.168.0.0/16"}}"#,
            Allowed,
        ),
        (r#"{"IpAddress":{"acs:SourceIp":"10.1.2.0/25"}}"#, Allowed),
        (
            r#"{"IpAddress":{"acs:SourceIp":"10.1.2.128/25"}}"#,
            ImplicitlyDenied,
        ),
        (
            r#"{"DateLessThan":{"acs:CurrentTime":"2027-01-01T00:00:00Z"}}"#,
            Allowed,
        ),
        (
            r#"{"DateGreaterThan":{"acs:CurrentTime":"2027-01-01T00:00:00Z"}}"#,
            ImplicitlyDenied,
        ),
        (
            r#"{"DateGreaterThanEquals":{"acs:CurrentTime":"2026-06-01T00:00:00Z"}}"#,
            Allowed,
        ),
        (
            r#"{"DateLessThan":{"acs:CurrentTime":"2026-06-01T00:00:00Z"}}"#,
            ImplicitlyDenied,
        ),
        (
            r#"{"StringEquals":{"kms:EncryptionContext/app":"apollo"}}"#,
            Allowed,
        ),
        (
            r#"{"StringEquals":{"kms:EncryptionContext/app":["x","apollo"]}}"#,
            Allowed,
        ),
        (
            r#"{"StringEquals":{"kms:EncryptionContext/app":"other"}}"#,
            ImplicitlyDenied,
        ),
        (
            r#"{"StringEquals":{"kms:EncryptionContext/missing":"x"}}"#,
            ImplicitlyDenied,
        ),
        (
            r#"{"StringNotEquals":{"kms:EncryptionContext/missing":"x"}}"#,
            Allowed,
        ),
        (
            r#"{"StringLike":{"kms:EncryptionContext/app":"apo*"}}"#,
            Allowed,
        ),
        (
            r#"{"StringEqualsIgnoreCase":{"kms:EncryptionContext/app":"APOLLO"}}"#,
            Allowed,
        ),
        (r#"{"Bool":{"acs:SecureTransport":"true"}}"#, Allowed),
        (
            r#"{"Bool":{"acs:SecureTransport":false}}"#,
            ImplicitlyDenied,
        ),
        (
            r#"{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"},"StringEquals":{"kms:EncryptionContext/app":"other"}}"#,
            ImplicitlyDenied,
        ),
    ];
    for (cond, want) in cases {
        assert_eq!(
            decide(&allow("kms:*", "*", cond), "kms:Encrypt", &[KEY]),
            *want,
            "{cond}"
        );
    }
}

#[test]
fn malformed_documents_are_refused() {
    let bad = [
        "not json",
        r#"{"Statement":[]}"#,
        r#"{"Version":"2","Statement":[]}"#,
        r#"{"Version":"1","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#,
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}"#,
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Nope":{"acs:SourceIp":"1.2.3.4"}}}]}"#,
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"999.1.1.1"}}}]}"#,
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"acs:CurrentTime":"tomorrow"}}}]}"#,
    ];
    for doc in bad {
        assert!(
            matches!(Policy::parse(doc), Err(PolicyError::Malformed(_))),
            "{doc}"
        );
    }
    assert_eq!(Policy::parse(&"x".repeat(7000)), Err(PolicyError::TooLarge));
}
