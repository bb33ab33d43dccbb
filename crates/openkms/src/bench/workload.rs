//! What the bench sends: the operations, their parameters, and the fixture they need.
//!
//! [`setup`] makes the fixture through ordinary API calls before anything is measured: a key
//! (unless one is given), a plaintext of the requested size, and a ciphertext of it for
//! Decrypt, or a key pair and a digest for the AsymmetricSign operations ([`super::pairs`]).
//! [`Workload::request`] then builds request number `n` of a phase: which operation
//! (the `mixed` profile interleaves them in a fixed 20-request pattern), which key
//! (round-robin over the key list), and a fresh V1 signature with a new nonce and timestamp
//! ([`super::signer`], byte for byte what `openkms-client` sends). Sending is not done here.

use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine as _;
use bytes::Bytes;
use http::Request;
use http::header::{self, ACCEPT, HeaderValue};
use http_body_util::Full;
use openkms_client::Client;
use openkms_sign::V1SigningKey;

use super::BenchArgs;
use super::pairs::{self, Pair};
use super::signer::{Form, KEY_ID_SLOT, Values, fresh_nonce, timestamp_now};

/// The API version every request names.
const API_VERSION: &str = "2016-01-20";
/// `User-Agent` of the bench's requests.
const USER_AGENT: &str = concat!("openkms-bench/", env!("CARGO_PKG_VERSION"));

/// Description of the keys the bench creates, so they can be told apart later.
const BENCH_KEY_DESCRIPTION: &str = "openkms bench";

/// The `--op` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OpArg {
    /// Encrypt a plaintext of --plaintext-size bytes.
    Encrypt,
    /// Decrypt a ciphertext made in setup.
    Decrypt,
    /// GenerateDataKey (32 bytes).
    GenerateDataKey,
    /// CreateKey (durable writes).
    CreateKey,
    /// DescribeKey (a server without it answers InvalidAction: counted as errors).
    DescribeKey,
    /// GetSecretValue of a secret made in setup (its value --plaintext-size bytes, encrypted
    /// under the bench key).
    GetSecretValue,
    /// 45% Decrypt, 45% Encrypt, 10% GenerateDataKey.
    Mixed,
    /// AsymmetricSign with an RSA_2048 key, RSA_PSS_SHA_256 (the bench makes the key pair).
    SignRsa2048,
    /// AsymmetricSign with an EC_P256 key, ECDSA_SHA_256.
    SignP256,
    /// AsymmetricSign with an EC_SM2 key, SM2DSA.
    SignSm2,
}

/// One kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// `GET /healthz`: the ceiling.
    Health,
    /// Encrypt.
    Encrypt,
    /// Decrypt.
    Decrypt,
    /// GenerateDataKey.
    GenerateDataKey,
    /// CreateKey.
    CreateKey,
    /// DescribeKey.
    DescribeKey,
    /// GetSecretValue.
    GetSecretValue,
    /// AsymmetricSign, RSA_2048 PSS.
    SignRsa2048,
    /// AsymmetricSign, EC_P256 ECDSA.
    SignP256,
    /// AsymmetricSign, EC_SM2 SM2DSA.
    SignSm2,
}

impl Op {
    /// The name printed in reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::Health => "GET /healthz",
            Self::Encrypt => "Encrypt",
            Self::Decrypt => "Decrypt",
            Self::GenerateDataKey => "GenerateDataKey",
            Self::CreateKey => "CreateKey",
            Self::DescribeKey => "DescribeKey",
            Self::GetSecretValue => "GetSecretValue",
            Self::SignRsa2048 => "AsymmetricSign RSA_2048 PSS",
            Self::SignP256 => "AsymmetricSign EC_P256",
            Self::SignSm2 => "AsymmetricSign EC_SM2",
        }
    }
}

/// The repeating pattern of operations for `--op`.
pub fn schedule(op: OpArg) -> Vec<Op> {
    match op {
        OpArg::Encrypt => vec![Op::Encrypt],
        OpArg::Decrypt => vec![Op::Decrypt],
        OpArg::GenerateDataKey => vec![Op::GenerateDataKey],
        OpArg::CreateKey => vec![Op::CreateKey],
        OpArg::DescribeKey => vec![Op::DescribeKey],
        OpArg::GetSecretValue => vec![Op::GetSecretValue],
        OpArg::Mixed => mixed_pattern(),
        OpArg::SignRsa2048 => vec![Op::SignRsa2048],
        OpArg::SignP256 => vec![Op::SignP256],
        OpArg::SignSm2 => vec![Op::SignSm2],
    }
}

/// 9 Decrypt, 9 Encrypt and 2 GenerateDataKey in 20, spread evenly (stride 7 over 20).
fn mixed_pattern() -> Vec<Op> {
    let mut bag = vec![Op::Decrypt; 9];
    bag.extend([Op::Encrypt; 9]);
    bag.extend([Op::GenerateDataKey; 2]);
    (0..bag.len()).map(|i| bag[(i * 7) % bag.len()]).collect()
}

/// What the requests refer to, made before measuring.
#[derive(Debug)]
pub struct Fixture {
    /// Keys used round-robin (one unless --key-ids-file).
    key_ids: Vec<String>,
    /// The Encrypt plaintext, exactly --plaintext-size bytes of base64 text.
    plaintext: String,
    /// The ProtectionLevel of keys made by --op create-key.
    protection_level: String,
    /// A CiphertextBlob of `plaintext` under the first key, for Decrypt.
    ciphertext: Option<String>,
    /// A secret whose value is `plaintext`, under the first key, for GetSecretValue.
    secret_name: Option<String>,
    /// The key pair of a signing operation (its key is `key_ids[0]`).
    pair: Option<Pair>,
}

/// Creates (or reads) the keys and the ciphertext the operation needs.
pub async fn setup(client: &Client, args: &BenchArgs) -> anyhow::Result<Fixture> {
    let plaintext = plaintext_of(usize::from(args.plaintext_size))?;
    let ops = schedule(args.op);
    if let Some((spec, _)) = pairs::spec_and_algorithm(ops[0]) {
        if args.key_id.is_some() || args.key_ids_file.is_some() {
            bail!(
                "--op {:?} makes its own key pair: drop --key-id/--key-ids-file",
                args.op
            );
        }
        let pair = pairs::setup(client, spec, BENCH_KEY_DESCRIPTION).await?;
        return Ok(Fixture {
            key_ids: vec![pair.key_id.clone()],
            plaintext,
            protection_level: args.protection_level.clone(),
            ciphertext: None,
            secret_name: None,
            pair: Some(pair),
        });
    }
    let key_ids = match (&args.key_id, &args.key_ids_file) {
        _ if ops == [Op::CreateKey] => Vec::new(),
        (Some(id), _) => vec![id.clone()],
        (None, Some(path)) => read_key_ids(path)?,
        (None, None) => vec![create_key(client, &args.protection_level).await?],
    };
    let ciphertext = match ops.contains(&Op::Decrypt) {
        true => Some(encrypt_once(client, &key_ids[0], &plaintext).await?),
        false => None,
    };
    let secret_name = match ops.contains(&Op::GetSecretValue) {
        true => Some(create_secret(client, &key_ids[0], &plaintext).await?),
        false => None,
    };
    Ok(Fixture {
        key_ids,
        plaintext,
        protection_level: args.protection_level.clone(),
        ciphertext,
        secret_name,
        pair: None,
    })
}

/// Creates a secret of `value` under `key_id` with a fresh name (`openkms-bench/<nonce>`).
async fn create_secret(client: &Client, key_id: &str, value: &str) -> anyhow::Result<String> {
    let name = format!("openkms-bench/{}", super::signer::fresh_nonce()?);
    let params = [
        ("SecretName", name.as_str()),
        ("VersionId", "v1"),
        ("SecretData", value),
        ("EncryptionKeyId", key_id),
    ];
    client
        .call("CreateSecret", &params)
        .await
        .with_context(|| format!("setup: CreateSecret under {key_id} failed"))?;
    Ok(name)
}

/// `len` bytes of base64 text: what SDK users typically put in `Plaintext`.
fn plaintext_of(len: usize) -> anyhow::Result<String> {
    let mut raw = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut raw).map_err(|_| anyhow::anyhow!("no system randomness"))?;
    let mut text = base64::engine::general_purpose::STANDARD.encode(&raw);
    text.truncate(len);
    Ok(text)
}

async fn create_key(client: &Client, protection_level: &str) -> anyhow::Result<String> {
    let params = [
        ("Description", BENCH_KEY_DESCRIPTION),
        ("ProtectionLevel", protection_level),
    ];
    let reply = client
        .call("CreateKey", &params)
        .await
        .context("setup: CreateKey failed (are the credentials right?)")?;
    reply["KeyMetadata"]["KeyId"]
        .as_str()
        .map(str::to_owned)
        .context("setup: CreateKey replied without KeyMetadata.KeyId")
}

async fn encrypt_once(client: &Client, key_id: &str, plaintext: &str) -> anyhow::Result<String> {
    let reply = client
        .call("Encrypt", &[("KeyId", key_id), ("Plaintext", plaintext)])
        .await
        .with_context(|| format!("setup: Encrypt under {key_id} failed"))?;
    reply["CiphertextBlob"]
        .as_str()
        .map(str::to_owned)
        .context("setup: Encrypt replied without CiphertextBlob")
}

fn read_key_ids(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--key-ids-file: cannot read {}", path.display()))?;
    let ids: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if ids.is_empty() {
        bail!("--key-ids-file: {} holds no KeyId", path.display());
    }
    Ok(ids)
}

/// Writes the KeyIds a create-key run made, one per line.
pub fn save_key_ids(path: &Path, ids: &[String]) -> anyhow::Result<()> {
    let mut text = ids.join("\n");
    text.push('\n');
    std::fs::write(path, text)
        .with_context(|| format!("--save-key-ids: cannot write {}", path.display()))
}

/// Builds the requests of a run.
pub struct Workload {
    /// The HMAC key of the AccessKeySecret, kept for every signature.
    key: V1SigningKey,
    /// The `Host` header.
    host: HeaderValue,
    /// The repeating operation pattern.
    schedule: Vec<Op>,
    /// Each signed operation's form, by operation.
    forms: Vec<(Op, Form)>,
    /// Keys, plaintext, ciphertext.
    fixture: Fixture,
}

/// Who signs the requests.
pub struct Identity<'a> {
    /// The AccessKeyId.
    pub access_key_id: &'a str,
    /// The HMAC key made from the AccessKeySecret.
    pub key: V1SigningKey,
    /// The `RegionId` sent ("" for none).
    pub region_id: &'a str,
}

impl Workload {
    /// The workload of `args` over `fixture`, signed as `identity`.
    pub fn new(
        identity: Identity<'_>,
        host: &str,
        args: &BenchArgs,
        fixture: Fixture,
    ) -> anyhow::Result<Self> {
        let schedule = schedule(args.op);
        let mut forms = Vec::new();
        for op in &schedule {
            if forms.iter().any(|(o, _)| o == op) {
                continue;
            }
            let (action, business) = business_params(*op, &fixture);
            let form = Form::new(
                action,
                &business,
                identity.access_key_id,
                identity.region_id,
            )?;
            forms.push((*op, form));
        }
        Ok(Self {
            key: identity.key,
            host: HeaderValue::from_str(host)?,
            schedule,
            forms,
            fixture,
        })
    }

    /// The operation of request number `n` of a phase.
    pub fn op_at(&self, n: u64) -> Op {
        let len = self.schedule.len() as u64;
        self.schedule[usize::try_from(n % len).unwrap_or(0)]
    }

    /// How many distinct keys the requests use.
    pub fn key_count(&self) -> usize {
        self.fixture.key_ids.len()
    }

    /// Request number `n`, for `op`, signed now with a fresh nonce.
    pub fn request(&self, op: Op, n: u64) -> anyhow::Result<Request<Full<Bytes>>> {
        let Some((_, form)) = self.forms.iter().find(|(o, _)| *o == op) else {
            return self.get("/healthz".to_owned());
        };
        let (timestamp, nonce) = (timestamp_now(), fresh_nonce()?);
        let values = Values {
            timestamp: &timestamp,
            nonce: &nonce,
            key_id: self.key_for(n),
        };
        let mut request = Request::post(form.sign(&self.key, &values))
            .header(header::HOST, self.host.clone())
            .header(ACCEPT, "application/json")
            .header(header::USER_AGENT, USER_AGENT)
            .body(Full::new(Bytes::new()))?;
        let action = HeaderValue::from_static(action_of(op));
        request.headers_mut().insert("x-acs-action", action);
        request
            .headers_mut()
            .insert("x-acs-version", HeaderValue::from_static(API_VERSION));
        Ok(request)
    }

    fn key_for(&self, n: u64) -> &str {
        let ids = &self.fixture.key_ids;
        match ids.len() {
            0 => "",
            len => &ids[usize::try_from(n % len as u64).unwrap_or(0)],
        }
    }

    fn get(&self, path: String) -> anyhow::Result<Request<Full<Bytes>>> {
        Ok(Request::get(path)
            .header(header::HOST, self.host.clone())
            .body(Full::new(Bytes::new()))?)
    }
}

/// The action name and business parameters of `op` (the KeyId as a placeholder).
fn business_params(op: Op, fixture: &Fixture) -> (&'static str, Vec<(&'static str, &str)>) {
    let params = match op {
        Op::Encrypt => vec![
            ("KeyId", KEY_ID_SLOT),
            ("Plaintext", fixture.plaintext.as_str()),
        ],
        Op::Decrypt => vec![(
            "CiphertextBlob",
            fixture.ciphertext.as_deref().unwrap_or(""),
        )],
        Op::GenerateDataKey | Op::DescribeKey => vec![("KeyId", KEY_ID_SLOT)],
        Op::CreateKey => vec![
            ("Description", BENCH_KEY_DESCRIPTION),
            ("ProtectionLevel", fixture.protection_level.as_str()),
        ],
        Op::GetSecretValue => vec![("SecretName", fixture.secret_name.as_deref().unwrap_or(""))],
        Op::SignRsa2048 | Op::SignP256 | Op::SignSm2 => sign_params(op, fixture),
        Op::Health => vec![],
    };
    (action_of(op), params)
}

/// AsymmetricSign of the fixture's digest by its key pair's version.
fn sign_params(op: Op, fixture: &Fixture) -> Vec<(&'static str, &str)> {
    let algorithm = pairs::spec_and_algorithm(op).map_or("", |(_, a)| a);
    let (version, digest) = fixture
        .pair
        .as_ref()
        .map_or(("", ""), |p| (p.version_id.as_str(), p.digest.as_str()));
    vec![
        ("KeyId", KEY_ID_SLOT),
        ("KeyVersionId", version),
        ("Algorithm", algorithm),
        ("Digest", digest),
    ]
}

fn action_of(op: Op) -> &'static str {
    match op {
        Op::Health => "Health",
        Op::Encrypt => "Encrypt",
        Op::Decrypt => "Decrypt",
        Op::GenerateDataKey => "GenerateDataKey",
        Op::CreateKey => "CreateKey",
        Op::DescribeKey => "DescribeKey",
        Op::GetSecretValue => "GetSecretValue",
        Op::SignRsa2048 | Op::SignP256 | Op::SignSm2 => "AsymmetricSign",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_is_45_45_10_and_interleaved() {
        let p = mixed_pattern();
        let count = |op| p.iter().filter(|o| **o == op).count();
        assert_eq!(p.len(), 20);
        assert_eq!(
            (
                count(Op::Decrypt),
                count(Op::Encrypt),
                count(Op::GenerateDataKey)
            ),
            (9, 9, 2)
        );
        assert!(p.windows(3).all(|w| !(w[0] == w[1] && w[1] == w[2])));
    }

    #[test]
    fn sign_ops_sign_the_fixture_digest_with_the_pair_version() {
        let fixture = Fixture {
            key_ids: vec!["k".into()],
            plaintext: String::new(),
            protection_level: "SOFTWARE".into(),
            ciphertext: None,
            secret_name: None,
            pair: Some(Pair {
                key_id: "k".into(),
                version_id: "v".into(),
                digest: "d".into(),
            }),
        };
        for (op, algorithm) in [
            (Op::SignRsa2048, "RSA_PSS_SHA_256"),
            (Op::SignP256, "ECDSA_SHA_256"),
            (Op::SignSm2, "SM2DSA"),
        ] {
            let (action, params) = business_params(op, &fixture);
            assert_eq!(action, "AsymmetricSign");
            assert!(params.contains(&("Algorithm", algorithm)));
            assert!(params.contains(&("KeyVersionId", "v")) && params.contains(&("Digest", "d")));
        }
    }

    #[test]
    fn plaintext_has_the_exact_length() {
        for len in [1, 32, 1024, 6144] {
            assert_eq!(plaintext_of(len).unwrap().len(), len);
        }
    }
}
