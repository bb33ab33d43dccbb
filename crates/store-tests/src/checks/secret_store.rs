//! The checks of [`openkms_core::SecretStore`]: exact round trips of a secret, its versions
//! (ciphertexts byte for byte), stage labels and tags; creation all or nothing; a change
//! applied whole under the revision rule (a stage move is never half done, a stale or
//! malformed change writes nothing, one of racing writers wins); paging by name; due
//! deletions; destruction of every row; the tag limit; durability across a reopen.

use std::sync::Arc;

use openkms_core::{
    SecretChange, SecretDataType, SecretRecord, SecretStage, SecretStore, StoreError,
    StoredSecretVersion, Tag,
};

use crate::StoreFactory;
use crate::checks::race::{one_winner, race};
use crate::checks::{
    assert_already_exists, assert_conflict, assert_limit_exceeded, assert_not_found,
    assert_reference_not_found,
};

/// A secret record with every field set (`n` makes the name).
pub(crate) fn secret(n: u32) -> SecretRecord {
    SecretRecord {
        name: format!("db/secret-{n:03}"),
        secret_type: "Generic".into(),
        description: format!("secret {n} – é"),
        encryption_key_id: Some(format!("key-{n:032}")),
        created_at: 1_700_000_000 + i64::from(n),
        updated_at: 1_700_000_100 + i64::from(n),
        planned_delete_at: None,
        policy: Some(r#"{"Version":"1","Statement":[]}"#.into()),
        revision: 1,
    }
}

/// A version of `secret` with a ciphertext holding every byte value.
pub(crate) fn version(secret: &SecretRecord, id: &str, at: i64) -> StoredSecretVersion {
    let mut ciphertext: Vec<u8> = (0..=255u8).collect();
    ciphertext.extend_from_slice(id.as_bytes());
    StoredSecretVersion {
        version: openkms_core::SecretVersion {
            secret_name: secret.name.clone(),
            version_id: id.into(),
            created_at: at,
            data_type: SecretDataType::Binary,
        },
        ciphertext,
    }
}

/// A stage label of `secret`.
pub(crate) fn stage(secret: &SecretRecord, stage: &str, version: &str) -> SecretStage {
    SecretStage {
        secret_name: secret.name.clone(),
        stage: stage.into(),
        version_id: version.into(),
    }
}

fn tag(k: &str, v: &str) -> Tag {
    Tag {
        key: k.into(),
        value: v.into(),
    }
}

/// Creates secret `n` with version `v1` marked `ACSCurrent` and two tags.
pub(crate) async fn create_sample(store: &impl SecretStore, n: u32) -> SecretRecord {
    let s = secret(n);
    let v1 = version(&s, "v1", s.created_at);
    let stages = [stage(&s, "ACSCurrent", "v1")];
    let tags = [tag("team", "db"), tag("env", "prod")];
    store
        .create_secret(&s, &v1, &stages, &tags)
        .await
        .expect("create_secret of a new secret");
    s
}

/// The change that adds `id` as ACSCurrent and moves the old current to ACSPrevious.
fn put_change(s: &SecretRecord, id: &str, old_current: &str) -> SecretChange {
    let mut next = s.clone();
    next.revision += 1;
    next.updated_at += 10;
    SecretChange {
        added: Some(version(s, id, s.created_at + 5)),
        dropped: vec![],
        stages: vec![
            stage(s, "ACSCurrent", id),
            stage(s, "ACSPrevious", old_current),
        ],
        secret: next,
    }
}

async fn stages_of(store: &impl SecretStore, name: &str) -> Vec<(String, String)> {
    let rows = store
        .list_secret_stages(name)
        .await
        .expect("list_secret_stages");
    rows.into_iter().map(|s| (s.stage, s.version_id)).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).into(), (*b).into()))
        .collect()
}

/// Everything written at creation reads back exactly.
pub async fn create_secret_round_trips<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let s = create_sample(&store, 1).await;
    let read = store.get_secret(&s.name).await.expect("get_secret");
    assert_eq!(read.as_ref(), Some(&s), "the record reads back as created");
    let versions = store.list_secret_versions(&s.name).await.expect("versions");
    assert_eq!(versions, vec![version(&s, "v1", s.created_at).version]);
    let ct = store
        .secret_ciphertext(&s.name, "v1")
        .await
        .expect("ciphertext");
    assert_eq!(
        ct,
        Some(version(&s, "v1", 0).ciphertext),
        "ciphertext byte for byte"
    );
    assert_eq!(
        store.secret_ciphertext(&s.name, "v2").await.expect("read"),
        None
    );
    assert_eq!(
        stages_of(&store, &s.name).await,
        pairs(&[("ACSCurrent", "v1")])
    );
    let tags = store.list_secret_tags(&s.name).await.expect("tags");
    assert_eq!(
        tags,
        vec![tag("env", "prod"), tag("team", "db")],
        "tags by tag key"
    );
    let mut bare = secret(2);
    bare.encryption_key_id = None;
    bare.policy = None;
    bare.planned_delete_at = Some(5);
    let v = version(&bare, "x", 1);
    store
        .create_secret(&bare, &v, &[], &[])
        .await
        .expect("create bare");
    let read = store.get_secret(&bare.name).await.expect("get_secret");
    assert_eq!(read, Some(bare), "empty options round trip");
    assert_eq!(store.get_secret("nope").await.expect("get"), None);
}

/// A taken name is refused; a creation whose stage names another version writes nothing.
pub async fn create_secret_is_atomic<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let s = create_sample(&store, 1).await;
    let again = store
        .create_secret(&s, &version(&s, "v9", 1), &[], &[])
        .await;
    assert_already_exists(again, "create_secret of a taken name");
    let other = secret(2);
    let v = version(&other, "v1", 1);
    let bad = [stage(&other, "ACSCurrent", "v2")];
    let result = store.create_secret(&other, &v, &bad, &[]).await;
    assert_reference_not_found(result, "a stage on a version not created");
    assert_eq!(
        store.get_secret(&other.name).await.expect("get"),
        None,
        "nothing written"
    );
    assert!(
        store
            .list_secret_versions(&other.name)
            .await
            .expect("list")
            .is_empty()
    );
}

/// A change adds a version, moves stages and drops a version in one step, over the revision.
pub async fn update_secret_applies_the_whole_change<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let s = create_sample(&store, 1).await;
    let change = put_change(&s, "v2", "v1");
    store.update_secret(&change).await.expect("update_secret");
    let read = store.get_secret(&s.name).await.expect("get");
    assert_eq!(
        read.as_ref(),
        Some(&change.secret),
        "the new record is stored"
    );
    let stages = pairs(&[("ACSCurrent", "v2"), ("ACSPrevious", "v1")]);
    assert_eq!(stages_of(&store, &s.name).await, stages);
    let ids: Vec<_> = store.list_secret_versions(&s.name).await.expect("list");
    let ids: Vec<_> = ids.into_iter().map(|v| v.version_id).collect();
    assert_eq!(ids, ["v1", "v2"], "versions oldest first");
    let mut next = change.secret.clone();
    next.revision += 1;
    let drop = SecretChange {
        secret: next,
        added: None,
        dropped: vec!["v1".into(), "absent".into()],
        stages: vec![stage(&s, "ACSCurrent", "v2"), stage(&s, "Custom", "v2")],
    };
    store.update_secret(&drop).await.expect("drop v1");
    assert_eq!(
        store.secret_ciphertext(&s.name, "v1").await.expect("read"),
        None
    );
    let stages = pairs(&[("ACSCurrent", "v2"), ("Custom", "v2")]);
    assert_eq!(
        stages_of(&store, &s.name).await,
        stages,
        "labels replaced whole"
    );
}

/// A stale revision, an unknown secret, a taken version id or a label on a dropped version
/// writes nothing.
pub async fn update_secret_refuses_and_writes_nothing<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let s = create_sample(&store, 1).await;
    let mut stale = put_change(&s, "v2", "v1");
    stale.secret.revision = 5;
    assert_conflict(store.update_secret(&stale).await, "a stale revision");
    let mut ghost = secret(7);
    ghost.name = "absent".into();
    let missing = put_change(&ghost, "v2", "v1");
    assert_not_found(store.update_secret(&missing).await, "an unknown secret");
    let mut taken = put_change(&s, "v1", "v1");
    taken.stages = vec![stage(&s, "ACSCurrent", "v1")];
    assert_already_exists(store.update_secret(&taken).await, "a taken version id");
    let mut dangling = put_change(&s, "v2", "v1");
    dangling.dropped = vec!["v1".into()];
    let result = store.update_secret(&dangling).await;
    assert_reference_not_found(result, "a label on a dropped version");
    assert_eq!(
        store.get_secret(&s.name).await.expect("get"),
        Some(s.clone())
    );
    assert_eq!(
        stages_of(&store, &s.name).await,
        pairs(&[("ACSCurrent", "v1")])
    );
    assert_eq!(
        store
            .list_secret_versions(&s.name)
            .await
            .expect("list")
            .len(),
        1
    );
}

/// Of writers racing from the same revision, exactly one wins; the others write nothing.
pub async fn concurrent_update_secret_has_one_winner<F: StoreFactory>(factory: F) {
    let store = Arc::new(factory.open().await);
    let s = create_sample(store.as_ref(), 1).await;
    let results = race(&store, 8, |store, i| {
        let change = put_change(&s, &format!("v-{i}"), "v1");
        async move { store.update_secret(&change).await }
    })
    .await;
    let winner = one_winner(results, "update_secret");
    let versions = store.list_secret_versions(&s.name).await.expect("list");
    assert_eq!(versions.len(), 2, "only the winner's version was added");
    let current = format!("v-{winner}");
    let stages = pairs(&[("ACSCurrent", &current), ("ACSPrevious", "v1")]);
    assert_eq!(stages_of(store.as_ref(), &s.name).await, stages);
}

/// Pages walk every secret by name, each once.
pub async fn page_secrets_walks_by_name<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    for n in [5, 1, 4, 2, 3] {
        create_sample(&store, n).await;
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.page_secrets(after.as_deref(), 2).await.expect("page");
        assert!(page.len() <= 2, "a page holds at most the limit");
        let Some(last) = page.last() else { break };
        after = Some(last.name.clone());
        seen.extend(page.into_iter().map(|s| s.name));
    }
    let expected: Vec<_> = (1..=5).map(|n| secret(n).name).collect();
    assert_eq!(seen, expected, "every secret once, by name");
}

/// A secret is due when its planned deletion time is at or before now.
pub async fn due_secrets_at_boundaries<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let s = create_sample(&store, 1).await;
    create_sample(&store, 2).await;
    let mut next = s.clone();
    next.revision += 1;
    next.planned_delete_at = Some(1_000);
    let change = SecretChange {
        secret: next,
        added: None,
        dropped: vec![],
        stages: vec![stage(&s, "ACSCurrent", "v1")],
    };
    store.update_secret(&change).await.expect("schedule");
    assert!(store.due_secrets(999).await.expect("due").is_empty());
    assert_eq!(
        store.due_secrets(1_000).await.expect("due"),
        vec![s.name.clone()]
    );
    assert_eq!(store.due_secrets(5_000).await.expect("due"), vec![s.name]);
}

/// Destroying a secret removes its record, versions, ciphertexts, stages and tags.
pub async fn destroy_secret_removes_everything<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let s = create_sample(&store, 1).await;
    let keep = create_sample(&store, 2).await;
    store
        .update_secret(&put_change(&s, "v2", "v1"))
        .await
        .expect("put");
    store.destroy_secret(&s.name).await.expect("destroy");
    assert_eq!(store.get_secret(&s.name).await.expect("get"), None);
    assert!(
        store
            .list_secret_versions(&s.name)
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        store
            .list_secret_stages(&s.name)
            .await
            .expect("stages")
            .is_empty()
    );
    assert!(
        store
            .list_secret_tags(&s.name)
            .await
            .expect("tags")
            .is_empty()
    );
    assert_eq!(
        store.secret_ciphertext(&s.name, "v2").await.expect("read"),
        None
    );
    assert_not_found(store.destroy_secret(&s.name).await, "destroying twice");
    assert!(
        store.get_secret(&keep.name).await.expect("get").is_some(),
        "others kept"
    );
    let again = create_sample(&store, 1).await;
    assert_eq!(
        store
            .list_secret_versions(&again.name)
            .await
            .expect("list")
            .len(),
        1
    );
}

/// Tags are upserted within the limit, refused past it, removed by key.
pub async fn secret_tags_hold_the_limit<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let s = create_sample(&store, 1).await;
    let more = [tag("team", "app"), tag("a", "1")];
    store
        .put_secret_tags(&s.name, &more, 3)
        .await
        .expect("put within the limit");
    let over = store.put_secret_tags(&s.name, &[tag("b", "2")], 3).await;
    assert_limit_exceeded(over, "a fourth tag with a limit of three");
    let absent = store.put_secret_tags("absent", &more, 3).await;
    assert_reference_not_found(absent, "tags of an unknown secret");
    let tags = store.list_secret_tags(&s.name).await.expect("tags");
    assert_eq!(
        tags,
        vec![tag("a", "1"), tag("env", "prod"), tag("team", "app")]
    );
    let keys = ["env".to_owned(), "zzz".to_owned()];
    store
        .delete_secret_tags(&s.name, &keys)
        .await
        .expect("delete");
    let tags = store.list_secret_tags(&s.name).await.expect("tags");
    assert_eq!(tags, vec![tag("a", "1"), tag("team", "app")]);
}

/// Every write is there after a reopen.
pub async fn reopen_keeps_secrets<F: StoreFactory>(factory: F) {
    let s = {
        let store = factory.open().await;
        let s = create_sample(&store, 1).await;
        store
            .update_secret(&put_change(&s, "v2", "v1"))
            .await
            .expect("put");
        s
    };
    let store = factory.open().await;
    let read = store
        .get_secret(&s.name)
        .await
        .expect("get")
        .expect("the secret is kept");
    assert_eq!(read.revision, 2);
    let ct = store.secret_ciphertext(&s.name, "v2").await.expect("read");
    assert_eq!(ct, Some(version(&s, "v2", 0).ciphertext));
    let stages = pairs(&[("ACSCurrent", "v2"), ("ACSPrevious", "v1")]);
    assert_eq!(stages_of(&store, &s.name).await, stages);
    assert_eq!(
        store.list_secret_tags(&s.name).await.expect("tags").len(),
        2
    );
    let _ = StoreError::NotFound;
}
