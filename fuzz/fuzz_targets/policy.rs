//! Policy documents (`openkms_core::policy`): the first byte picks an identity policy or a
//! key policy, the rest is the document.
//!
//! Checks: no panic in parsing, or in evaluating what parsed against a few requests (with
//! and without facts for the conditions, as identity and as key policy); what parsed is
//! within the size limit of its kind; a policy held twice decides as it does held once.
#![no_main]

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use openkms_core::policy::{
    ConditionContext, MAX_KEY_POLICY_BYTES, MAX_POLICY_BYTES, Policy, PolicyKind, Request,
    evaluate, evaluate_key_policy,
};

const ACCOUNT: &str = "acs:ram::1234567890123456:*";

fuzz_target!(|data: &[u8]| {
    let Some((&kind, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let kind = match kind % 2 {
        0 => PolicyKind::Identity,
        _ => PolicyKind::Key,
    };
    let Ok(policy) = Policy::parse_as(text, kind) else {
        return;
    };
    let max = match kind {
        PolicyKind::Identity => MAX_POLICY_BYTES,
        PolicyKind::Key => MAX_KEY_POLICY_BYTES,
    };
    assert!(text.len() <= max);
    for request in requests() {
        let once = policy.evaluate(&request);
        assert_eq!(once, evaluate([&policy, &policy], &request));
        let _ = evaluate_key_policy(&policy, &request, ACCOUNT);
    }
});

fn requests() -> [Request; 3] {
    let key = "acs:kms:cn-hangzhou:1234567890123456:key/86a9efd9-3d16-4894-bd4f-1fc43f3f2abf";
    let alias = "acs:kms:cn-hangzhou:1234567890123456:alias/app/data";
    let facts = ConditionContext {
        source_ip: Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))),
        current_time: 1_704_067_200,
        secure_transport: true,
        encryption_context: BTreeMap::from([("app".to_owned(), "apollo".to_owned())]),
    };
    [
        Request {
            action: "kms:Encrypt".into(),
            resources: vec![key.into(), alias.into()],
            context: facts.clone(),
            principal: "acs:ram::1234567890123456:user/alice".into(),
        },
        Request {
            action: "kms:DisableKey".into(),
            resources: vec![key.into()],
            context: ConditionContext::default(),
            principal: "acs:ram::1234567890123456:root".into(),
        },
        Request {
            action: "ram:CreateUser".into(),
            resources: vec!["acs:ram:*:1234567890123456:user/bob".into()],
            context: facts,
            principal: "acs:ram::9999:user/mallory".into(),
        },
    ]
}
