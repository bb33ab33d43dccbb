//! The key-pair operations of the bench: AsymmetricSign with RSA_2048 (PSS), EC_P256
//! (ECDSA) and EC_SM2 (SM2DSA). Setup makes one key pair of the spec (the bench's requests
//! must name its version, which only a key the bench made tells it) and a random 32-byte
//! digest; every request signs that digest.

use anyhow::{Context, bail};
use base64::Engine as _;
use openkms_client::Client;

use super::workload::Op;

/// The KeySpec and Algorithm of a signing operation; `None` for the other operations.
pub fn spec_and_algorithm(op: Op) -> Option<(&'static str, &'static str)> {
    match op {
        Op::SignRsa2048 => Some(("RSA_2048", "RSA_PSS_SHA_256")),
        Op::SignP256 => Some(("EC_P256", "ECDSA_SHA_256")),
        Op::SignSm2 => Some(("EC_SM2", "SM2DSA")),
        _ => None,
    }
}

/// A signing key pair made for the run: its key id and its one version.
#[derive(Debug)]
pub struct Pair {
    /// The key id.
    pub key_id: String,
    /// The version every request names.
    pub version_id: String,
    /// Base64 of the 32-byte digest every request signs.
    pub digest: String,
}

/// Makes a key pair of `spec` (CreateKey, ListKeyVersions) and a random digest.
pub async fn setup(client: &Client, spec: &str, description: &str) -> anyhow::Result<Pair> {
    let params = [("KeySpec", spec), ("Description", description)];
    let reply = client
        .call("CreateKey", &params)
        .await
        .context("setup: CreateKey of a key pair failed")?;
    let Some(key_id) = reply["KeyMetadata"]["KeyId"].as_str().map(str::to_owned) else {
        bail!("setup: CreateKey replied without KeyMetadata.KeyId");
    };
    let versions = client
        .call("ListKeyVersions", &[("KeyId", key_id.as_str())])
        .await
        .context("setup: ListKeyVersions failed")?;
    let version_id = versions["KeyVersions"]["KeyVersion"][0]["KeyVersionId"]
        .as_str()
        .map(str::to_owned)
        .context("setup: ListKeyVersions named no version")?;
    let mut digest = [0u8; 32];
    aws_lc_rs::rand::fill(&mut digest).map_err(|_| anyhow::anyhow!("no system randomness"))?;
    Ok(Pair {
        key_id,
        version_id,
        digest: base64::engine::general_purpose::STANDARD.encode(digest),
    })
}
