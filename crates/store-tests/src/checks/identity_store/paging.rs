//! Checks for the paged identity reads: `page_users` and `page_policies`.
//!
//! Owns that walking the pages by name gives exactly `list_users` and `list_policies`, for
//! every page size, names compared in byte order. Does not cover the unpaged orders (see
//! `identities`).

use super::identities::TRICKY_NAMES;
use crate::StoreFactory;
use crate::checks::prelude::*;
use crate::fixtures::{named_policy, named_user};

/// Users and custom policies page by name, from cursor to cursor, as they list.
pub async fn page_users_and_policies_walk_by_name<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(
        store
            .page_users(None, 5)
            .await
            .expect("page_users")
            .is_empty()
    );
    assert!(store.page_policies(None, 5).await.expect("page").is_empty());
    for name in TRICKY_NAMES {
        store
            .create_user(&named_user(name))
            .await
            .expect("create_user");
        store
            .create_policy(&named_policy(name))
            .await
            .expect("create_policy");
    }
    let users = store.list_users().await.expect("list_users");
    let policies = store.list_policies().await.expect("list_policies");
    for limit in [1, 4, 100] {
        let mut walked = Vec::new();
        loop {
            let after = walked
                .last()
                .map(|u: &openkms_core::UserRecord| u.user_name.clone());
            let page = store
                .page_users(after.as_deref(), limit)
                .await
                .expect("page_users");
            assert!(page.len() <= limit);
            if page.is_empty() {
                break;
            }
            walked.extend(page);
        }
        assert_eq!(walked, users, "users by {limit}");
        let mut walked = Vec::new();
        loop {
            let after = walked
                .last()
                .map(|p: &openkms_core::PolicyRecord| p.policy_name.clone());
            let page = store
                .page_policies(after.as_deref(), limit)
                .await
                .expect("page");
            assert!(page.len() <= limit);
            if page.is_empty() {
                break;
            }
            walked.extend(page);
        }
        assert_eq!(walked, policies, "policies by {limit}");
    }
}
