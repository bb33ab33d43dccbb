//! `sign-file` and `verify-file`: signatures over files of any size with a key pair.
//!
//! The file is hashed locally (streamed): SHA-256 for the RSA and ECDSA algorithms, and for
//! SM2DSA `SM3(Z_A ‖ M)` with the default ID `1234567812345678`, Z computed from the public
//! key GetPublicKey returns. sign-file sends only the 32-byte digest (AsymmetricSign) and
//! prints the base64 signature; verify-file checks a signature offline with the public key
//! from GetPublicKey (DescribeKey gives the spec), or through AsymmetricVerify with
//! `--online`. An invalid signature prints `invalid` and exits 1.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use openkms_client::Client;
use openkms_core::KeySpec;
use openkms_core::asymmetric::{self, DIGEST_LEN, SignAlgorithm};
use serde_json::Value;
use sm3::Digest as _;

use super::files::CliFailure;

/// The longest signature file verify-file reads (base64 of a 4096-bit RSA signature is 684).
const MAX_SIGNATURE_FILE: u64 = 16 * 1024;

/// Which key version signs, with which algorithm, over which file.
#[derive(Debug, Clone, clap::Args)]
pub struct SignatureTarget {
    /// The key: id, alias (alias/…) or ARN.
    #[arg(long)]
    pub key_id: String,
    /// The key version (`openkms ListKeyVersions --KeyId …` lists them).
    #[arg(long)]
    pub key_version_id: String,
    /// RSA_PSS_SHA_256, RSA_PKCS1_SHA_256, ECDSA_SHA_256 or SM2DSA.
    #[arg(long)]
    pub algorithm: String,
    /// The file signed.
    #[arg(long = "in")]
    pub input: PathBuf,
}

/// `openkms sign-file` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct SignFileArgs {
    #[command(flatten)]
    target: SignatureTarget,
}

/// `openkms verify-file` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyFileArgs {
    #[command(flatten)]
    target: SignatureTarget,
    /// The signature as sign-file printed it (base64).
    #[arg(
        long,
        conflicts_with = "signature_file",
        required_unless_present = "signature_file"
    )]
    signature: Option<String>,
    /// A file holding the base64 signature.
    #[arg(long)]
    signature_file: Option<PathBuf>,
    /// Verify through the API (AsymmetricVerify) instead of with the public key locally.
    #[arg(long)]
    online: bool,
}

/// Signs a file and prints the base64 signature.
pub async fn sign(client: &Client, args: &SignFileArgs) -> Result<(), CliFailure> {
    let t = &args.target;
    let algorithm = algorithm(&t.algorithm)?;
    let digest = file_digest(client, t, algorithm).await?;
    let params = [
        ("KeyId", t.key_id.clone()),
        ("KeyVersionId", t.key_version_id.clone()),
        ("Algorithm", t.algorithm.clone()),
        ("Digest", B64.encode(digest)),
    ];
    let reply = call(client, "AsymmetricSign", &params).await?;
    let value = reply["Value"]
        .as_str()
        .ok_or_else(|| anyhow!("the server sent no Value"))?;
    println!("{value}");
    Ok(())
}

/// Verifies a signature over a file; `Ok(false)` when it does not verify.
pub async fn verify(client: &Client, args: &VerifyFileArgs) -> Result<bool, CliFailure> {
    let t = &args.target;
    let algorithm = algorithm(&t.algorithm)?;
    let signature = signature_text(args)?;
    let raw = B64
        .decode(signature.trim())
        .map_err(|_| anyhow!("the signature is not base64"))?;
    let digest = file_digest(client, t, algorithm).await?;
    if args.online {
        let params = [
            ("KeyId", t.key_id.clone()),
            ("KeyVersionId", t.key_version_id.clone()),
            ("Algorithm", t.algorithm.clone()),
            ("Digest", B64.encode(digest)),
            ("Value", signature.trim().to_owned()),
        ];
        let reply = call(client, "AsymmetricVerify", &params).await?;
        return reply["Value"]
            .as_bool()
            .ok_or_else(|| CliFailure::from(anyhow!("the server sent no boolean Value")));
    }
    let spki = public_key(client, t).await?;
    let spec = key_spec(client, &t.key_id).await?;
    Ok(asymmetric::verify(&spki, algorithm, spec, &digest, &raw))
}

/// Prints the outcome of verify-file: `valid` (exit 0) or `invalid` (exit 1).
pub fn report(valid: bool) -> ExitCode {
    match valid {
        true => {
            println!("valid");
            ExitCode::SUCCESS
        }
        false => {
            println!("invalid");
            ExitCode::from(super::output::EXIT_API)
        }
    }
}

fn algorithm(name: &str) -> anyhow::Result<SignAlgorithm> {
    SignAlgorithm::parse(name).ok_or_else(|| {
        anyhow!(
            "--algorithm {name:?}: use RSA_PSS_SHA_256, RSA_PKCS1_SHA_256, ECDSA_SHA_256 or SM2DSA"
        )
    })
}

fn signature_text(args: &VerifyFileArgs) -> anyhow::Result<String> {
    if let Some(text) = &args.signature {
        return Ok(text.clone());
    }
    let path = args
        .signature_file
        .as_ref()
        .ok_or_else(|| anyhow!("give --signature or --signature-file"))?;
    let mut text = String::new();
    File::open(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .take(MAX_SIGNATURE_FILE)
        .read_to_string(&mut text)
        .with_context(|| format!("{} is not a base64 signature", path.display()))?;
    Ok(text)
}

/// The digest the algorithm signs: SHA-256 of the file, or SM3(Z ‖ file) for SM2DSA.
async fn file_digest(
    client: &Client,
    t: &SignatureTarget,
    algorithm: SignAlgorithm,
) -> Result<[u8; DIGEST_LEN], CliFailure> {
    let file =
        File::open(&t.input).with_context(|| format!("cannot read {}", t.input.display()))?;
    if algorithm != SignAlgorithm::Sm2Dsa {
        return Ok(sha256(file)?);
    }
    let spki = public_key(client, t).await?;
    let z = asymmetric::sm2_z(&spki).ok_or_else(|| anyhow!("the key is not an SM2 key"))?;
    Ok(sm3_after(&z, file)?)
}

fn sha256(file: File) -> anyhow::Result<[u8; DIGEST_LEN]> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    stream(file, |chunk| ctx.update(chunk))?;
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(ctx.finish().as_ref());
    Ok(out)
}

fn sm3_after(z: &[u8; DIGEST_LEN], file: File) -> anyhow::Result<[u8; DIGEST_LEN]> {
    let mut h = sm3::Sm3::new();
    h.update(z);
    stream(file, |chunk| h.update(chunk))?;
    Ok(h.finalize().into())
}

fn stream(file: File, mut each: impl FnMut(&[u8])) -> anyhow::Result<()> {
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match reader.read(&mut buf)? {
            0 => return Ok(()),
            n => each(&buf[..n]),
        }
    }
}

/// The DER SubjectPublicKeyInfo of the version, from GetPublicKey's PEM.
async fn public_key(client: &Client, t: &SignatureTarget) -> Result<Vec<u8>, CliFailure> {
    let params = [
        ("KeyId", t.key_id.clone()),
        ("KeyVersionId", t.key_version_id.clone()),
    ];
    let reply = call(client, "GetPublicKey", &params).await?;
    let pem = reply["PublicKey"]
        .as_str()
        .ok_or_else(|| anyhow!("the server sent no PublicKey"))?;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    Ok(B64
        .decode(body)
        .map_err(|_| anyhow!("the server's PublicKey is not PEM"))?)
}

async fn key_spec(client: &Client, key_id: &str) -> Result<KeySpec, CliFailure> {
    let reply = call(client, "DescribeKey", &[("KeyId", key_id.to_owned())]).await?;
    let name = reply["KeyMetadata"]["KeySpec"].as_str().unwrap_or_default();
    match KeySpec::parse(name) {
        Some(spec) if spec.is_asymmetric() => Ok(spec),
        _ => Err(anyhow!("{key_id} is not an asymmetric key (KeySpec {name:?})").into()),
    }
}

async fn call(
    client: &Client,
    action: &str,
    params: &[(&str, String)],
) -> Result<Value, CliFailure> {
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    client.call(action, &pairs).await.map_err(CliFailure::Api)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_algorithms_say_which_exist() {
        let e = algorithm("RSA_PSS_SHA_384").unwrap_err().to_string();
        assert!(e.contains("SM2DSA"), "{e}");
        assert_eq!(algorithm("SM2DSA").ok(), Some(SignAlgorithm::Sm2Dsa));
    }

    #[test]
    fn empty_input_hashes_to_the_known_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty");
        std::fs::write(&path, b"").unwrap();
        let d = sha256(File::open(&path).unwrap()).unwrap();
        assert_eq!(
            B64.encode(d),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
