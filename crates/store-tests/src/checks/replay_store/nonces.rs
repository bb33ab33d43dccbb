//! Checks of the SignatureNonce records that refuse replayed requests.
//!
//! Owns the rules of `use_nonce` and `purge_nonces` seen by one caller: a nonce is recorded
//! once per AccessKey, refused while its record has not expired, reusable once it has, purged
//! only once expired, and kept across a reopen. The race for one nonce is in `concurrency`.

use crate::StoreFactory;
use crate::checks::prelude::*;

/// Calls `use_nonce`, panicking if the store fails.
async fn use_nonce(
    store: &impl ReplayStore,
    ak: &str,
    nonce: &str,
    expires_at: i64,
    now: i64,
) -> bool {
    store
        .use_nonce(ak, nonce, expires_at, now)
        .await
        .expect("use_nonce succeeds")
}

/// The first use of a nonce is recorded (`true`); using it again before it expires is a
/// replay (`false`), even with another expiry.
pub async fn use_nonce_first_use_then_replay<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(
        use_nonce(&store, "ak-1", "n-1", 1_900, 1_000).await,
        "first use"
    );
    assert!(
        !use_nonce(&store, "ak-1", "n-1", 1_900, 1_000).await,
        "replay"
    );
    assert!(
        !use_nonce(&store, "ak-1", "n-1", 2_500, 1_500).await,
        "a replay later but within the expiry"
    );
    assert!(
        !use_nonce(&store, "ak-1", "n-1", 2_900, 1_900).await,
        "a replay at exactly the expiry is still refused"
    );
}

/// A nonce is recorded per AccessKey: another AccessKey may use the same nonce.
pub async fn use_nonce_is_per_access_key<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(
        use_nonce(&store, "ak-1", "shared", 1_900, 1_000).await,
        "ak-1 first use"
    );
    assert!(
        use_nonce(&store, "ak-2", "shared", 1_900, 1_000).await,
        "ak-2 uses the nonce ak-1 used"
    );
    assert!(
        !use_nonce(&store, "ak-2", "shared", 1_900, 1_000).await,
        "ak-2 replay"
    );
    assert!(
        use_nonce(&store, "ak-1", "other", 1_900, 1_000).await,
        "another nonce of ak-1"
    );
}

/// A record that expired before `now` is replaced: the nonce is recorded again, with the new
/// expiry (so it is refused until then).
pub async fn use_nonce_expired_record_is_reusable<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(
        use_nonce(&store, "ak-1", "n-1", 1_900, 1_000).await,
        "first use"
    );
    assert!(
        use_nonce(&store, "ak-1", "n-1", 2_901, 1_901).await,
        "reuse one second after the expiry"
    );
    assert!(
        !use_nonce(&store, "ak-1", "n-1", 3_000, 2_901).await,
        "the replaced record refuses until its new expiry"
    );
}

/// `purge_nonces(now)` deletes exactly the records with `expires_at < now` and counts them;
/// the others still refuse their nonce.
pub async fn purge_nonces_removes_only_expired<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    for (i, expires_at) in [900, 999, 1_000, 1_001, 5_000].into_iter().enumerate() {
        let nonce = format!("n-{i}");
        assert!(
            use_nonce(&store, "ak-1", &nonce, expires_at, 0).await,
            "{nonce}"
        );
    }
    let purged = store.purge_nonces(1_000).await.expect("purge_nonces");
    assert_eq!(purged, 2, "the two records that expired before 1000");
    let again = store.purge_nonces(1_000).await.expect("purge_nonces");
    assert_eq!(again, 0, "a second purge finds nothing");
    for nonce in ["n-2", "n-3", "n-4"] {
        assert!(
            !use_nonce(&store, "ak-1", nonce, 9_000, 0).await,
            "{nonce} is kept by the purge"
        );
    }
    for nonce in ["n-0", "n-1"] {
        assert!(
            use_nonce(&store, "ak-1", nonce, 9_000, 0).await,
            "{nonce} was purged, so it is new again"
        );
    }
}

/// A recorded nonce is still refused after the store is closed and reopened.
pub async fn reopen_keeps_nonces<F: StoreFactory>(factory: F) {
    let store = factory.open().await;
    assert!(
        use_nonce(&store, "ak-1", "kept", 1_900, 1_000).await,
        "first use"
    );
    drop(store);
    let store = factory.open().await;
    assert!(
        !use_nonce(&store, "ak-1", "kept", 1_900, 1_000).await,
        "the nonce is still recorded after a reopen"
    );
    assert!(
        use_nonce(&store, "ak-1", "new", 1_900, 1_000).await,
        "a new nonce after a reopen"
    );
}
