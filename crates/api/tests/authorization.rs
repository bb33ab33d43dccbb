//! Authorization end to end inside the process: what each action touches (aliases and keys,
//! the key inside a ciphertext, both keys of ReEncrypt, every ResourceId), how users' and keys'
//! policies combine, and that a change to a grant applies to the very next request.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod world;

use std::net::IpAddr;

use openkms_api::codec::{self, Exchange};
use openkms_api::rpc::{Format, Params, RpcError};
use openkms_core::model::PolicyType;
use openkms_core::{EncryptionContext, KeyRef, KmsError};
use openkms_ops::kms::{Encrypt, ScheduleKeyDeletion};
use openkms_ops::{AuditEvent, Caller, Operation, Origin};
use world::{ACCOUNT, World, allow, world};

impl World {
    async fn blob(&self, key_id: &str, context: &EncryptionContext) -> String {
        use base64::Engine as _;
        let out = self
            .svc
            .encrypt(&KeyRef::Id(key_id.into()), b"secret", context)
            .await
            .unwrap();
        base64::engine::general_purpose::STANDARD.encode(out.blob)
    }

    async fn may(&self, caller: &Caller, action: &str, params: &[(&str, &str)]) -> bool {
        self.may_from(caller, action, params, "127.0.0.1").await
    }

    async fn may_from(
        &self,
        caller: &Caller,
        action: &str,
        params: &[(&str, &str)],
        ip: &str,
    ) -> bool {
        let params = Params::from_pairs(
            params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
        let origin = Origin {
            source_ip: Some(ip.parse::<IpAddr>().unwrap()),
            secure: true,
        };
        match self.check(caller, action, &params, origin).await {
            Ok(_) => true,
            Err(RpcError::Kms(KmsError::Forbidden) | RpcError::RamForbidden) => false,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
}

impl World {
    /// Whether `caller` may make the request `action` with `params` (decoded by the codec and
    /// decided by the engine, or judged by what its names touch when it does not decode).
    async fn check(
        &self,
        caller: &Caller,
        action: &str,
        params: &Params,
        origin: Origin,
    ) -> Result<(), RpcError> {
        let endpoint = codec::endpoints()
            .iter()
            .find(|e| e.name.action == action)
            .expect("a served action");
        let pending = endpoint.decode(params, &self.svc);
        let mut event = AuditEvent::default();
        let exchange = Exchange {
            engine: &self.engine,
            params,
            caller,
            origin,
            format: Format::Json,
            request_id: "req",
            event: &mut event,
        };
        pending.check(exchange).await
    }
}

#[tokio::test]
async fn the_root_identity_may_do_anything() {
    let w = world().await;
    let root = Caller {
        access_key_id: "root-ak".into(),
        user: "root".into(),
    };
    assert!(w.may(&root, "CreateUser", &[("UserName", "x")]).await);
    assert!(w.may(&root, "Decrypt", &[]).await);
}

#[tokio::test]
async fn an_alias_grant_covers_requests_through_that_alias_only() {
    let w = world().await;
    let key = w.key(Some("alias/app"), None).await;
    let other = w.key(Some("alias/other"), None).await;
    let u = w
        .user("builder", &allow("kms:Encrypt", "acs:kms:*:*:alias/app"))
        .await;
    assert!(w.may(&u, "Encrypt", &[("KeyId", "alias/app")]).await);
    let arn = format!("acs:kms:cn-hangzhou:{ACCOUNT}:alias/app");
    assert!(w.may(&u, "Encrypt", &[("KeyId", &arn)]).await);
    assert!(!w.may(&u, "Encrypt", &[("KeyId", &key)]).await);
    assert!(!w.may(&u, "Encrypt", &[("KeyId", "alias/other")]).await);
    assert!(!w.may(&u, "Encrypt", &[("KeyId", &other)]).await);
    assert!(
        !w.may(&u, "GenerateDataKey", &[("KeyId", "alias/app")])
            .await
    );
    assert!(!w.may(&u, "CreateKey", &[]).await);
    assert!(
        !w.may(&u, "Encrypt", &[]).await,
        "no KeyId: checked against the keys"
    );
    assert!(
        w.may(&u, "DescribeRegions", &[]).await,
        "open to every caller"
    );
}

#[tokio::test]
async fn decrypt_is_decided_by_the_key_inside_the_ciphertext() {
    let w = world().await;
    let key = w.key(None, None).await;
    let other = w.key(None, None).await;
    let arn = format!("acs:kms:*:*:key/{key}");
    let u = w.user("server", &allow("kms:Decrypt", &arn)).await;
    let none = EncryptionContext::empty();
    let mine = w.blob(&key, &none).await;
    let theirs = w.blob(&other, &none).await;
    assert!(w.may(&u, "Decrypt", &[("CiphertextBlob", &mine)]).await);
    assert!(!w.may(&u, "Decrypt", &[("CiphertextBlob", &theirs)]).await);
    // Not base64: checked against the account, which this user may not use.
    assert!(!w.may(&u, "Decrypt", &[("CiphertextBlob", "%%%")]).await);
    // Base64 of no key here: Decrypt itself refuses it with its one error.
    assert!(w.may(&u, "Decrypt", &[("CiphertextBlob", "AAAA")]).await);
}

#[tokio::test]
async fn re_encrypt_needs_both_keys() {
    let w = world().await;
    let from = w.key(None, None).await;
    let to = w.key(None, None).await;
    let blob = w.blob(&from, &EncryptionContext::empty()).await;
    let both = format!(
        "{},{}",
        allow("kms:ReEncrypt", &format!("acs:kms:*:*:key/{from}")),
        allow("kms:ReEncrypt", &format!("acs:kms:*:*:key/{to}"))
    );
    let u = w.user("both", &both).await;
    let src = w
        .user(
            "src",
            &allow("kms:ReEncrypt", &format!("acs:kms:*:*:key/{from}")),
        )
        .await;
    let params = [
        ("CiphertextBlob", blob.as_str()),
        ("DestinationKeyId", to.as_str()),
    ];
    assert!(w.may(&u, "ReEncrypt", &params).await);
    assert!(!w.may(&src, "ReEncrypt", &params).await);
}

#[tokio::test]
async fn re_encrypt_from_a_key_pair_needs_the_pair_and_the_destination() {
    let w = world().await;
    let pair = w.key(None, None).await;
    let to = w.key(None, None).await;
    let grant = |key: &str| allow("kms:ReEncrypt", &format!("acs:kms:*:*:key/{key}"));
    let both = w
        .user("both", &format!("{},{}", grant(&pair), grant(&to)))
        .await;
    let destination_only = w.user("dest", &grant(&to)).await;
    let params = [
        ("CiphertextBlob", "AAAA"),
        ("SourceKeyId", pair.as_str()),
        ("SourceKeyVersionId", "some-version"),
        ("SourceEncryptionAlgorithm", "RSAES_OAEP_SHA_256"),
        ("DestinationKeyId", to.as_str()),
    ];
    assert!(w.may(&both, "ReEncrypt", &params).await);
    assert!(!w.may(&destination_only, "ReEncrypt", &params).await);
    // Without its version the request does not decode; it is still checked against the pair.
    let partial = [params[0], params[1], params[4]];
    assert!(!w.may(&destination_only, "ReEncrypt", &partial).await);
}

#[tokio::test]
async fn deny_wins_and_conditions_see_the_request() {
    let w = world().await;
    w.key(Some("alias/ctx"), None).await;
    let statements = format!(
        r#"{},{{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}},
        {{"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"*",
          "Condition":{{"StringEquals":{{"kms:EncryptionContext/purpose":"boot"}},
                        "IpAddress":{{"acs:SourceIp":"10.0.0.0/8"}}}}}}"#,
        allow("kms:*", "*")
    );
    let u = w.user("mixed", &statements).await;
    let blob = w
        .blob(
            &w.svc
                .resolve(&KeyRef::Alias("alias/ctx".into()))
                .await
                .unwrap(),
            &EncryptionContext::empty(),
        )
        .await;
    assert!(w.may(&u, "Encrypt", &[("KeyId", "alias/ctx")]).await);
    assert!(!w.may(&u, "Decrypt", &[("CiphertextBlob", &blob)]).await);

    let narrow = w
        .user(
            "narrow",
            r#"{"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"*",
                "Condition":{"StringEquals":{"kms:EncryptionContext/purpose":"boot"},
                             "IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}}"#,
        )
        .await;
    let json = [
        ("KeyId", "alias/ctx"),
        ("EncryptionContext", r#"{"purpose":"boot"}"#),
    ];
    let flat = [
        ("KeyId", "alias/ctx"),
        ("EncryptionContext.purpose", "boot"),
    ];
    let wrong = [
        ("KeyId", "alias/ctx"),
        ("EncryptionContext", r#"{"purpose":"x"}"#),
    ];
    assert!(
        w.may_from(&narrow, "GenerateDataKey", &json, "10.1.2.3")
            .await
    );
    assert!(
        w.may_from(&narrow, "GenerateDataKey", &flat, "10.1.2.3")
            .await
    );
    assert!(
        !w.may_from(&narrow, "GenerateDataKey", &wrong, "10.1.2.3")
            .await
    );
    assert!(
        !w.may_from(&narrow, "GenerateDataKey", &json, "192.168.1.1")
            .await
    );
}

#[tokio::test]
async fn aliases_and_tag_lists_check_every_resource() {
    let w = world().await;
    let a = w.key(None, None).await;
    let b = w.key(None, None).await;
    let u = w
        .user(
            "tagger",
            &format!(
                "{},{}",
                allow("kms:*", &format!("acs:kms:*:*:key/{a}")),
                allow("kms:CreateAlias", "acs:kms:*:*:alias/mine/*")
            ),
        )
        .await;
    let mine = [("KeyId", a.as_str()), ("AliasName", "alias/mine/x")];
    let not_mine = [("KeyId", a.as_str()), ("AliasName", "alias/theirs")];
    assert!(w.may(&u, "CreateAlias", &mine).await);
    assert!(!w.may(&u, "CreateAlias", &not_mine).await);
    let one = [
        ("RegionId", "cn-hangzhou"),
        ("ResourceType", "key"),
        ("ResourceId.1", a.as_str()),
    ];
    let two = [
        ("RegionId", "cn-hangzhou"),
        ("ResourceType", "key"),
        ("ResourceId.1", a.as_str()),
        ("ResourceId.2", b.as_str()),
    ];
    assert!(w.may(&u, "TagResources", &one).await);
    assert!(!w.may(&u, "TagResources", &two).await);
}

#[tokio::test]
async fn key_policies_grant_by_name_delegate_by_account_and_deny() {
    let w = world().await;
    let principal = |p: &str| format!(r#"{{"RAM":["{p}"]}}"#);
    let stmt = |effect: &str, who: &str, action: &str| {
        format!(
            r#"{{"Effect":"{effect}","Principal":{},"Action":"{action}","Resource":"*"}}"#,
            principal(who)
        )
    };
    let named = format!(
        r#"{{"Version":"1","Statement":[{}]}}"#,
        stmt(
            "Allow",
            &format!("acs:ram::{ACCOUNT}:user/alice"),
            "kms:Encrypt"
        )
    );
    let only_alice = w.key(None, Some(named)).await;
    let guarded = format!(
        r#"{{"Version":"1","Statement":[{},{}]}}"#,
        stmt("Allow", &format!("acs:ram::{ACCOUNT}:*"), "kms:*"),
        stmt(
            "Deny",
            &format!("acs:ram::{ACCOUNT}:user/bob"),
            "kms:Decrypt"
        )
    );
    let deny_bob = w.key(None, Some(guarded)).await;
    let default = w.key(None, None).await;

    let alice = w.user("alice", "").await;
    let bob = w.user("bob", &allow("kms:*", "*")).await;
    let enc = |k: &str| vec![("KeyId", k.to_owned())];
    let run = |c: &Caller, k: &str| {
        let p = enc(k);
        let c = c.clone();
        let w = &w;
        async move {
            let pairs: Vec<(&str, &str)> = p.iter().map(|(a, b)| (*a, b.as_str())).collect();
            w.may(&c, "Encrypt", &pairs).await
        }
    };
    // Alice has no policy of her own: the key policy naming her is enough, for Encrypt only.
    assert!(run(&alice, &only_alice).await);
    assert!(!run(&alice, &default).await);
    // Bob may do anything by his own policy, but not on a key whose policy leaves the account
    // out, nor Decrypt where the key policy denies him.
    assert!(run(&bob, &default).await);
    assert!(!run(&bob, &only_alice).await);
    assert!(run(&bob, &deny_bob).await);
    let blob = w.blob(&deny_bob, &EncryptionContext::empty()).await;
    assert!(!w.may(&bob, "Decrypt", &[("CiphertextBlob", &blob)]).await);
}

#[tokio::test]
async fn a_detached_policy_stops_applying_at_once() {
    let w = world().await;
    w.key(Some("alias/d"), None).await;
    let u = w.user("temp", &allow("kms:Encrypt", "*")).await;
    assert!(w.may(&u, "Encrypt", &[("KeyId", "alias/d")]).await);
    w.svc
        .detach_policy("temp", PolicyType::Custom, "p-temp")
        .await
        .unwrap();
    assert!(!w.may(&u, "Encrypt", &[("KeyId", "alias/d")]).await);
    w.svc
        .attach_policy("temp", PolicyType::System, "AliyunKMSCryptoUserAccess")
        .await
        .unwrap();
    assert!(w.may(&u, "Encrypt", &[("KeyId", "alias/d")]).await);
}

#[tokio::test]
async fn ram_actions_are_checked_against_users_and_policies() {
    let w = world().await;
    let admin = w
        .user(
            "useradmin",
            &format!(
                "{},{}",
                allow("ram:*", &format!("acs:ram:*:{ACCOUNT}:user/team-*")),
                allow(
                    "ram:AttachPolicyToUser",
                    "acs:ram:*:system:policy/AliyunKMSReadOnlyAccess"
                )
            ),
        )
        .await;
    assert!(w.may(&admin, "CreateUser", &[("UserName", "team-a")]).await);
    assert!(!w.may(&admin, "CreateUser", &[("UserName", "ops")]).await);
    assert!(!w.may(&admin, "ListUsers", &[]).await);
    let attach = |policy: &'static str| {
        [
            ("UserName", "team-a"),
            ("PolicyType", "System"),
            ("PolicyName", policy),
        ]
    };
    assert!(
        w.may(
            &admin,
            "AttachPolicyToUser",
            &attach("AliyunKMSReadOnlyAccess")
        )
        .await
    );
    assert!(
        !w.may(&admin, "AttachPolicyToUser", &attach("AdministratorAccess"))
            .await
    );
    // AccessKey actions default to the caller's own user.
    assert!(!w.may(&admin, "CreateAccessKey", &[]).await);
}

#[tokio::test]
async fn a_key_named_by_alias_is_pinned_to_the_key_that_was_checked() {
    let w = world().await;
    let first = w.key(Some("alias/moving"), None).await;
    let u = w
        .user("pinned", &allow("kms:*", "acs:kms:*:*:alias/moving"))
        .await;
    let origin = Origin {
        source_ip: None,
        secure: true,
    };
    let mut op = ScheduleKeyDeletion {
        key: KeyRef::Alias("alias/moving".into()),
        days: 7,
    };
    w.engine.check(&u, origin, &mut op).await.unwrap();
    assert_eq!(op.key, KeyRef::Id(first.clone()));
    // The action then runs on the checked key even if the alias moves meanwhile.
    let second = w.key(None, None).await;
    w.svc
        .update_alias("alias/moving", &KeyRef::Id(second.clone()))
        .await
        .unwrap();
    op.execute(&w.engine.call(&u, origin)).await.unwrap();
    let described = w.svc.describe_key(&KeyRef::Id(first)).await.unwrap();
    assert_eq!(described.state, openkms_core::KeyState::PendingDeletion);
    let other = w.svc.describe_key(&KeyRef::Id(second)).await.unwrap();
    assert_eq!(other.state, openkms_core::KeyState::Enabled);
    // An alias that names no key is AliasNotFound, once the caller may ask about it.
    let u2 = w.user("asker", &allow("kms:*", "*")).await;
    let mut gone = Encrypt {
        key: KeyRef::Alias("alias/moving-gone".into()),
        plaintext: openkms_core::SecretBytes::new(b"x".to_vec()),
        context: EncryptionContext::empty(),
    };
    let refused = w.engine.check(&u2, origin, &mut gone).await;
    assert!(matches!(refused, Err(KmsError::AliasNotFound)));
    let root = Caller {
        access_key_id: "root-ak".into(),
        user: "root".into(),
    };
    let mut unchecked = Encrypt {
        key: KeyRef::Alias("alias/moving".into()),
        plaintext: openkms_core::SecretBytes::new(b"x".to_vec()),
        context: EncryptionContext::empty(),
    };
    w.engine.check(&root, origin, &mut unchecked).await.unwrap();
    assert_eq!(
        unchecked.key,
        KeyRef::Alias("alias/moving".into()),
        "the root identity is not checked, nor pinned"
    );
}

#[tokio::test]
async fn moving_an_alias_off_a_denied_key_is_refused() {
    let w = world().await;
    let prod = w.key(Some("alias/app"), None).await;
    let mine = w.key(None, None).await;
    let grants = [
        allow("kms:UpdateAlias", "acs:kms:*:*:alias/app"),
        allow("kms:UpdateAlias", &format!("acs:kms:*:*:key/{mine}")),
    ];
    let deny =
        format!(r#"{{"Effect":"Deny","Action":"kms:*","Resource":"acs:kms:*:*:key/{prod}"}}"#);
    let denied = [grants[0].clone(), grants[1].clone(), deny];
    let mover = w.user("mover", &denied.join(",")).await;
    let request = [("AliasName", "alias/app"), ("KeyId", mine.as_str())];
    assert!(
        !w.may(&mover, "UpdateAlias", &request).await,
        "moving alias/app off a key the caller is denied redirects that key's users"
    );
    let owner = w.user("owner", &grants.join(",")).await;
    assert!(w.may(&owner, "UpdateAlias", &request).await);
}
