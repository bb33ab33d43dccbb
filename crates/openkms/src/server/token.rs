//! The PKCS#11 token at start-up: opened once when one is configured, it holds the root key
//! under `--seal pkcs11` and serves `ProtectionLevel=HSM` keys under any seal.
//!
//! The PIN comes from `--pkcs11-pin-file` (its first line) or `OPENKMS_PKCS11_PIN` (already
//! taken out of the environment); it is handed to the token and never logged. Under
//! `--seal pkcs11` the root key is the token key labelled `--pkcs11-key-label`; it is made
//! there only over an empty store, so a store whose key is missing from the token is refused
//! instead of silently getting a second root key. No `root.key` is read or written in that
//! mode. What the token does is `openkms-pkcs11`'s.

use std::sync::Arc;

use anyhow::{Context, bail};
use openkms_core::{KeyProvider, KeyService, OsRandom, RootSeal, SecretBytes, Store};
use openkms_pkcs11::{Pkcs11Provider, Pkcs11Root, Token};

use crate::config::{ServerConfig, TokenConfig};

use super::hygiene::{self, ENV_PKCS11_PIN};

/// The configured token, logged in; `None` when no module is configured.
pub fn open(
    config: &ServerConfig,
    pin_env: Option<SecretBytes>,
) -> anyhow::Result<Option<Arc<Token>>> {
    let Some(settings) = &config.seal.token else {
        return Ok(None);
    };
    let pin = pin(settings, pin_env)?;
    let token = Token::open(&settings.module, &settings.token_label, &pin)
        .context("pkcs11: cannot open the token; check the module, the token label and the PIN")?;
    tracing::info!(
        module = %settings.module.display(),
        token = %settings.token_label,
        "PKCS#11 token opened"
    );
    Ok(Some(Arc::new(token)))
}

fn pin(settings: &TokenConfig, from_env: Option<SecretBytes>) -> anyhow::Result<SecretBytes> {
    if let Some(path) = &settings.pin_file {
        return hygiene::read_secret_file("pkcs11_pin_file", path);
    }
    from_env.with_context(|| {
        format!("pkcs11: no user PIN; give --pkcs11-pin-file or set {ENV_PKCS11_PIN}")
    })
}

/// The root key inside the token (`--seal pkcs11`), made there at the first start of an
/// empty store.
pub async fn root_seal(
    token: &Arc<Token>,
    config: &ServerConfig,
    store: &dyn Store,
) -> anyhow::Result<Arc<dyn RootSeal>> {
    let label = match &config.seal.token {
        Some(t) => t.key_label.as_str(),
        None => bail!("pkcs11_module: required with seal = pkcs11"),
    };
    let found =
        Pkcs11Root::find(token.clone(), label).context("pkcs11: looking up the root key")?;
    if let Some(root) = found {
        return Ok(Arc::new(root));
    }
    if KeyService::data_exists(store).await? {
        bail!(
            "pkcs11: the token holds no key labelled {label:?} but the store holds keys; give the \
             label of the root key they were created with (--pkcs11-key-label)"
        );
    }
    let root = Pkcs11Root::create(token.clone(), label).context("pkcs11: making the root key")?;
    tracing::info!(label, "made a new root key inside the PKCS#11 token");
    Ok(Arc::new(root))
}

/// The key provider of `ProtectionLevel=HSM` keys in the token.
pub fn hsm_provider(token: &Arc<Token>) -> Arc<dyn KeyProvider> {
    Arc::new(Pkcs11Provider::new(
        token.clone(),
        Arc::new(OsRandom::new()),
    ))
}
