//! The policy table: for each (policy, action, resource, condition facts) case, allowed or
//! denied — Deny over Allow, wildcard edges, NotAction/NotResource, and every condition key —
//! and key policies: grants naming the caller, the account-wide delegation, Deny.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use openkms_core::policy::{
    ConditionContext, Decision, KeyPolicyDecision, Policy, PolicyError, PolicyKind, Request,
    evaluate, evaluate_key_policy,
};

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
        principal: "acs:ram::1234:user/alice".into(),
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
        // IPv4-mapped IPv6 blocks: /104 is the IPv4 /8.
        (
            r#"{"IpAddress":{"acs:SourceIp":"::ffff:10.0.0.0/104"}}"#,
            Allowed,
        ),
        (
            r#"{"IpAddress":{"acs:SourceIp":"::ffff:11.0.0.0/104"}}"#,
            ImplicitlyDenied,
        ),
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

/// A key policy of one statement: `effect` for `principal` on `action`.
fn key_policy(effect: &str, principal: &str, action: &str) -> Policy {
    let text = format!(
        r#"{{"Version":"1","Statement":[{{"Sid":"s","Effect":"{effect}","Principal":{principal},"Action":["{action}"],"Resource":["*"]}}]}}"#
    );
    Policy::parse_as(&text, PolicyKind::Key).unwrap()
}

#[test]
fn key_policies_grant_delegate_or_deny_by_principal() {
    use KeyPolicyDecision::*;
    const ACCOUNT: &str = "acs:ram::1234:*";
    let cases: &[(&str, &str, &str, &str, KeyPolicyDecision)] = &[
        // The default key policy hands the decision to the user's own policies.
        (
            "Allow",
            r#"{"RAM":["acs:ram::1234:*"]}"#,
            "kms:*",
            "kms:Encrypt",
            Delegated,
        ),
        // Naming the user (or a pattern narrower than the account) grants directly.
        (
            "Allow",
            r#"{"RAM":["acs:ram::1234:user/alice"]}"#,
            "kms:Encrypt",
            "kms:Encrypt",
            Granted,
        ),
        (
            "Allow",
            r#"{"RAM":["acs:ram::1234:user/a*"]}"#,
            "kms:Encrypt",
            "kms:Encrypt",
            Granted,
        ),
        (
            "Allow",
            r#"{"RAM":"acs:ram::1234:user/alice"}"#,
            "kms:Encrypt",
            "kms:Decrypt",
            NotApplicable,
        ),
        // Another user, or another account, is not this caller.
        (
            "Allow",
            r#"{"RAM":["acs:ram::1234:user/bob"]}"#,
            "kms:*",
            "kms:Encrypt",
            NotApplicable,
        ),
        (
            "Allow",
            r#"{"RAM":["acs:ram::9999:*"]}"#,
            "kms:*",
            "kms:Encrypt",
            NotApplicable,
        ),
        // "*" means anyone, but like the account-wide grant it only delegates, as does any
        // pattern that covers the account-wide principal itself.
        ("Allow", r#""*""#, "kms:*", "kms:Encrypt", Delegated),
        (
            "Allow",
            r#"{"RAM":["acs:ram::*:*"]}"#,
            "kms:*",
            "kms:Encrypt",
            Delegated,
        ),
        (
            "Allow",
            r#"{"RAM":["acs:*"]}"#,
            "kms:*",
            "kms:Encrypt",
            Delegated,
        ),
        // A Deny for the caller refuses, whether it names the user or the whole account.
        (
            "Deny",
            r#"{"RAM":["acs:ram::1234:user/alice"]}"#,
            "kms:Decrypt",
            "kms:Decrypt",
            Denied,
        ),
        (
            "Deny",
            r#"{"RAM":["acs:ram::1234:*"]}"#,
            "kms:*",
            "kms:Encrypt",
            Denied,
        ),
        (
            "Deny",
            r#"{"RAM":["acs:ram::1234:user/bob"]}"#,
            "kms:*",
            "kms:Encrypt",
            NotApplicable,
        ),
    ];
    for (effect, principal, allowed, asked, expected) in cases {
        let policy = key_policy(effect, principal, allowed);
        let got = evaluate_key_policy(&policy, &request(asked, &[KEY]), ACCOUNT);
        assert_eq!(
            got, *expected,
            "{effect} {principal} {allowed} asked {asked}"
        );
    }
}

#[test]
fn key_policy_deny_beats_a_grant_naming_the_user() {
    let text = r#"{"Version":"1","Statement":[
        {"Effect":"Allow","Principal":{"RAM":["acs:ram::1234:user/alice"]},"Action":"kms:*","Resource":"*"},
        {"Effect":"Deny","Principal":{"RAM":["acs:ram::1234:*"]},"Action":"kms:Decrypt","Resource":"*"}]}"#;
    let policy = Policy::parse_as(text, PolicyKind::Key).unwrap();
    let decide = |action| evaluate_key_policy(&policy, &request(action, &[KEY]), "acs:ram::1234:*");
    assert_eq!(decide("kms:Encrypt"), KeyPolicyDecision::Granted);
    assert_eq!(decide("kms:Decrypt"), KeyPolicyDecision::Denied);
}

#[test]
fn principal_belongs_in_key_policies_only() {
    let with = r#"{"Version":"1","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#;
    let without =
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#;
    assert!(Policy::parse_as(with, PolicyKind::Key).is_ok());
    assert!(Policy::parse_as(with, PolicyKind::Identity).is_err());
    assert!(Policy::parse_as(without, PolicyKind::Key).is_err());
    assert!(Policy::parse_as(without, PolicyKind::Identity).is_ok());
    let odd = r#"{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"Service":["x"]},"Action":"kms:*","Resource":"*"}]}"#;
    assert!(Policy::parse_as(odd, PolicyKind::Key).is_err());
}

#[test]
fn not_resource_cannot_be_passed_through_an_alias() {
    // The key is excluded; naming it through its alias touches the alias and the key, and the
    // exclusion must still hold.
    let policy = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:*","NotResource":"acs:kms:*:*:key/k-1"}]}"#;
    assert_eq!(
        decide(policy, "kms:Encrypt", &[ALIAS, KEY]),
        Decision::ImplicitlyDenied
    );
    assert_eq!(decide(policy, "kms:Encrypt", &[ALIAS]), Decision::Allowed);
    let deny = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"},{"Effect":"Deny","Action":"kms:*","NotResource":"acs:kms:*:*:key/k-1"}]}"#;
    assert_eq!(
        decide(deny, "kms:Encrypt", &[ALIAS, KEY]),
        Decision::Allowed
    );
}
