//! `--seal shamir`: the server starts sealed, with the operator endpoints that unseal it.
//!
//! This module hands the api crate's [`Operator`] what it cannot know: how the key service is
//! opened once the shares give the root key back (the same `open_service` step as a root key
//! file, with the quotas configured). The root AccessKey is made at `operator init` and
//! printed there, never written to `root-credentials.json`. Collecting and checking shares is
//! the core's ([`openkms_core::unseal`]); the wire form is the api crate's.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use openkms_api::operator::{OpenError, Opener, Operator};
use openkms_api::slot::ServiceSlot;
use openkms_core::{KeyService, OsRandom, RootKey, RootSeal, Store, unseal};
use openkms_pkcs11::Token;

use crate::config::ServerConfig;

/// Opens the key service with a root key from shares, as a root key file would be.
struct ShamirOpener {
    store: Arc<dyn Store>,
    config: Arc<ServerConfig>,
    /// The PKCS#11 token of HSM keys, when one is configured.
    token: Option<Arc<Token>>,
}

impl Opener for ShamirOpener {
    fn open(&self, root: RootKey) -> BoxFuture<'_, Result<Arc<KeyService>, OpenError>> {
        Box::pin(async move {
            let root: Arc<dyn RootSeal> = Arc::new(root);
            let service =
                super::open_service(self.store.clone(), root, &self.config, self.token.as_ref())
                    .await?;
            Ok(service)
        })
    }
}

/// The operator of a sealed server over `store`, filling `slot` once unsealed; says in the
/// log whether the store still needs `operator init`.
pub async fn operator(
    slot: &Arc<ServiceSlot>,
    store: Arc<dyn Store>,
    config: &ServerConfig,
    token: Option<Arc<Token>>,
) -> anyhow::Result<Arc<Operator>> {
    let record = unseal::read_record(store.as_ref())
        .await
        .map_err(|e| anyhow::anyhow!("seal: cannot read the Shamir seal record: {e}"))?;
    match record {
        Some(r) => tracing::info!(
            threshold = r.threshold(),
            shares = r.shares(),
            "sealed: submit {} unseal shares with `openkms operator unseal`",
            r.threshold()
        ),
        None if KeyService::data_exists(store.as_ref()).await? => anyhow::bail!(
            "seal = shamir: this store holds keys made under a root key file, not unseal shares; start it with seal = file"
        ),
        None => tracing::info!(
            "sealed and not initialised: run `openkms operator init --shares N --threshold T` once"
        ),
    }
    let opener = Arc::new(ShamirOpener {
        store: store.clone(),
        config: Arc::new(config.clone()),
        token,
    });
    Ok(Arc::new(Operator::new(
        slot.clone(),
        store,
        opener,
        Arc::new(OsRandom::new()),
    )))
}
