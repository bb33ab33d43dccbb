//! `--seal shamir`: the server starts sealed, with the operator endpoints that unseal it.
//!
//! This module hands the api crate's [`Operator`] what it cannot know: how the key service is
//! opened once the shares give the root key back (the same `open_service` step as a root key
//! file, with the quotas configured). The root AccessKey is made at `operator init` and
//! printed there, never written to `root-credentials.json`. At a start over an uninitialised
//! store it also generates the one-time init token `operator init` must present, writes it to
//! `<data-dir>/init-token` (mode 0600, durably) and logs only that file's path. Collecting and checking shares is
//! the core's ([`openkms_core::unseal`]); the wire form is the api crate's.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use futures_util::future::BoxFuture;
use openkms_api::operator::{InitToken, OpenError, Opener, Operator};
use openkms_api::slot::ServiceSlot;
use openkms_core::{
    KeyService, OsRandom, RootKey, RootSeal, SecretBytes, SecureRandom, Store, unseal,
};
use openkms_pkcs11::Token;

use crate::config::ServerConfig;
use crate::files;

/// Name of the init token file in the data directory.
pub const INIT_TOKEN_FILE: &str = "init-token";
/// Random bytes in an init token (256 bits), written as hex.
const INIT_TOKEN_BYTES: usize = 32;

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
    let token_file = config.data_dir.join(INIT_TOKEN_FILE);
    let init_token = match record {
        Some(r) => {
            tracing::info!(
                threshold = r.threshold(),
                shares = r.shares(),
                "sealed: submit {} unseal shares with `openkms operator unseal`",
                r.threshold()
            );
            remove_stale(&token_file)?;
            None
        }
        None if KeyService::data_exists(store.as_ref()).await? => anyhow::bail!(
            "seal = shamir: this store holds keys made under a root key file, not unseal shares; start it with seal = file"
        ),
        None => Some(write_init_token(&token_file)?),
    };
    let opener = Arc::new(ShamirOpener {
        store: store.clone(),
        config: Arc::new(config.clone()),
        token,
    });
    let operator = Operator::new(slot.clone(), store, opener, Arc::new(OsRandom::new()));
    Ok(Arc::new(match init_token {
        Some(init_token) => operator.with_init_token(init_token),
        None => operator,
    }))
}

/// Generates this start's init token and writes it to `path` (mode 0600, durably), replacing
/// an earlier start's; only the path is logged.
fn write_init_token(path: &Path) -> anyhow::Result<InitToken> {
    let mut raw = SecretBytes::zeroed(INIT_TOKEN_BYTES);
    OsRandom::new().fill(raw.expose_secret_mut());
    let token = SecretBytes::new(hex(raw.expose_secret()));
    files::write_private(path, token.expose_secret(), false)
        .context("seal = shamir: cannot write the init token file")?;
    tracing::info!(
        path = %path.display(),
        "sealed and not initialised: run `openkms operator init --shares N --threshold T --init-token-file {}` once, on this host",
        path.display()
    );
    Ok(InitToken::new(token, Some(path.to_path_buf())))
}

/// Removes an init token file left by a start before the store was initialised.
fn remove_stale(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => files::sync_parent(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}

/// Lower-case hex, into a buffer sized once (so no copy is left behind by a reallocation).
fn hex(bytes: &[u8]) -> Vec<u8> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_init_token_file_is_private_and_holds_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(INIT_TOKEN_FILE);
        write_init_token(&path).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.len(), 2 * INIT_TOKEN_BYTES);
        assert!(text.bytes().all(|b| b.is_ascii_hexdigit()));
        write_init_token(&path).unwrap();
        assert_ne!(
            std::fs::read_to_string(&path).unwrap(),
            text,
            "a new token per start"
        );
        remove_stale(&path).unwrap();
        assert!(!path.exists());
    }
}
