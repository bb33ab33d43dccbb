//! The checks of [`openkms_core::LoginStore`]: one login profile per existing user, exact
//! round trips, updates that keep the creation time, deletes, the profile going with its user,
//! and durability across a reopen.

use openkms_core::{LoginProfileRecord, LoginStore, StoreError};

use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::fixtures::{user, user_name};

/// A profile of user `n` with a hash that names `tag`.
fn profile(n: u32, tag: &str) -> LoginProfileRecord {
    LoginProfileRecord {
        user_name: user_name(n),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${tag}"),
        password_reset_required: true,
        mfa_bind_required: false,
        created_at: 1_700_000_000,
        updated_at: 1_700_000_001,
    }
}

/// A profile needs its user, is created once, and reads back exactly.
pub async fn login_profile_create_get<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    let missing = store.create_login_profile(&profile(1, "a")).await;
    assert!(
        matches!(missing, Err(StoreError::ReferenceNotFound)),
        "a profile of a missing user is ReferenceNotFound: {missing:?}"
    );
    store.create_user(&user(1)).await.expect("create_user");
    let none = store.get_login_profile(&user_name(1)).await.expect("get");
    assert_eq!(none, None, "no profile before one is created");
    store
        .create_login_profile(&profile(1, "a"))
        .await
        .expect("create_login_profile");
    let again = store.create_login_profile(&profile(1, "b")).await;
    assert!(
        matches!(again, Err(StoreError::AlreadyExists)),
        "a second profile is AlreadyExists: {again:?}"
    );
    let got = store.get_login_profile(&user_name(1)).await.expect("get");
    assert_eq!(
        got,
        Some(profile(1, "a")),
        "the first profile is kept exactly"
    );
}

/// An update replaces hash and flags, keeps the creation time; a missing profile is NotFound.
pub async fn login_profile_update_keeps_created_at<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    store.create_user(&user(2)).await.expect("create_user");
    let absent = store.update_login_profile(&profile(2, "x")).await;
    assert!(
        matches!(absent, Err(StoreError::NotFound)),
        "updating a missing profile is NotFound: {absent:?}"
    );
    store
        .create_login_profile(&profile(2, "a"))
        .await
        .expect("create");
    let changed = LoginProfileRecord {
        password_reset_required: false,
        mfa_bind_required: true,
        created_at: 5,
        updated_at: 1_800_000_000,
        ..profile(2, "b")
    };
    store.update_login_profile(&changed).await.expect("update");
    let got = store.get_login_profile(&user_name(2)).await.expect("get");
    let expected = LoginProfileRecord {
        created_at: 1_700_000_000,
        ..changed
    };
    assert_eq!(
        got,
        Some(expected),
        "hash and flags replaced, created_at kept"
    );
}

/// Delete says whether there was a profile; deleting the user deletes its profile.
pub async fn login_profile_delete_and_user_delete<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    store.create_user(&user(3)).await.expect("create_user");
    store.create_user(&user(4)).await.expect("create_user");
    store
        .create_login_profile(&profile(3, "a"))
        .await
        .expect("create");
    store
        .create_login_profile(&profile(4, "a"))
        .await
        .expect("create");
    assert!(
        store
            .delete_login_profile(&user_name(3))
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_login_profile(&user_name(3))
            .await
            .expect("delete")
    );
    assert_eq!(
        store.get_login_profile(&user_name(3)).await.expect("get"),
        None
    );
    store
        .delete_user(&user_name(4))
        .await
        .expect("a user with a profile is deleted");
    assert_eq!(
        store.get_login_profile(&user_name(4)).await.expect("get"),
        None,
        "the profile goes with its user"
    );
    store
        .create_user(&user(4))
        .await
        .expect("the name is free again");
    assert_eq!(
        store.get_login_profile(&user_name(4)).await.expect("get"),
        None,
        "a new user of the same name has no profile"
    );
}

/// A profile survives a reopen.
pub async fn login_profile_reopen_keeps<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    store.create_user(&user(5)).await.expect("create_user");
    store
        .create_login_profile(&profile(5, "a"))
        .await
        .expect("create");
    drop(store);
    let store = factory.open().await;
    let got = store.get_login_profile(&user_name(5)).await.expect("get");
    assert_eq!(got, Some(profile(5, "a")), "durable across a reopen");
}
