//! `encrypt-file` and `decrypt-file`: envelope encryption of files of any size.
//!
//! encrypt-file makes one GenerateDataKey call and seals the file locally in chunks
//! ([`super::envelope`]); decrypt-file makes one Decrypt call and opens it, or decrypts a file
//! holding a bare CiphertextBlob (as the seeds' scripts write). Output goes to a temporary file
//! (mode 0600) renamed into place only on success; `--out -` streams to stdout after a first
//! pass has verified the whole file. A progress bar shows on stderr for files over 64 MiB
//! when stderr is a terminal.

use std::fs::File;
use std::io::{BufReader, IsTerminal, Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use base64::Engine as _;
use openkms_client::Client;
use openkms_core::{OsRandom, SecretBytes, SecureRandom};
use serde_json::Value;

use super::envelope::{self, Header};

/// A bare CiphertextBlob file is never larger than this (a 6 KB plaintext's blob is ~8 KB).
const MAX_BARE_BLOB_BYTES: u64 = 64 * 1024;
/// Files larger than this get a progress bar.
const PROGRESS_THRESHOLD: u64 = 64 * 1024 * 1024;

/// `openkms encrypt-file` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct EncryptFileArgs {
    /// The key: id, alias (alias/…) or ARN.
    #[arg(long)]
    pub key_id: String,
    /// The file to encrypt.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// Where to write the envelope file.
    #[arg(long = "out")]
    pub output: PathBuf,
    /// EncryptionContext, a JSON object of strings; needed again to decrypt.
    #[arg(long)]
    pub context: Option<String>,
}

/// `openkms decrypt-file` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct DecryptFileArgs {
    /// An envelope file, or a file holding a bare CiphertextBlob.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// Where to write the plaintext; `-` for standard output.
    #[arg(long = "out")]
    pub output: PathBuf,
    /// EncryptionContext for a bare blob (an envelope file carries its own).
    #[arg(long)]
    pub context: Option<String>,
}

/// Encrypts a file.
pub async fn encrypt(client: &Client, args: &EncryptFileArgs) -> Result<(), CliFailure> {
    let context = parse_context(args.context.as_deref())?;
    let mut input =
        File::open(&args.input).with_context(|| format!("cannot read {}", args.input.display()))?;
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    let mut params = vec![
        ("KeyId", args.key_id.clone()),
        ("KeySpec", "AES_256".to_owned()),
    ];
    if !context.is_empty() {
        params.push((
            "EncryptionContext",
            Value::Object(context.clone()).to_string(),
        ));
    }
    let reply = call(client, "GenerateDataKey", &params).await?;
    let key = data_key(&reply)?;
    let header = new_header(&reply, context)?;
    let mut bar = progress(size);
    write_atomically(&args.output, |out| {
        envelope::seal(&key, &header, &mut input, out, &mut |n| bar(n)).map_err(|e| anyhow!("{e}"))
    })?;
    Ok(())
}

/// Decrypts an envelope file or a bare blob.
pub async fn decrypt(client: &Client, args: &DecryptFileArgs) -> Result<(), CliFailure> {
    let mut file =
        File::open(&args.input).with_context(|| format!("cannot read {}", args.input.display()))?;
    let mut prefix = [0u8; 8];
    let n = file.read(&mut prefix)?;
    file.rewind()?;
    if !envelope::is_envelope(&prefix[..n]) {
        return decrypt_bare(client, file, args).await;
    }
    let mut reader = BufReader::new(file);
    let (header, head) =
        envelope::read_header(&mut reader).map_err(|e| anyhow!("{}: {e}", args.input.display()))?;
    let mut params = vec![("CiphertextBlob", header.ciphertext_blob.clone())];
    if !header.encryption_context.is_empty() {
        params.push((
            "EncryptionContext",
            Value::Object(header.encryption_context.clone()).to_string(),
        ));
    }
    let key = data_key(&call(client, "Decrypt", &params).await?)?;
    let open = |out: &mut dyn Write, reader: &mut BufReader<File>| {
        envelope::open(&key, &header, &head, reader, out)
            .map_err(|e| anyhow!("{}: {e}; nothing was written", args.input.display()))
    };
    if args.output == Path::new("-") {
        let start = reader.stream_position()?;
        open(&mut std::io::sink(), &mut reader)?;
        reader.seek(std::io::SeekFrom::Start(start))?;
        return Ok(open(&mut std::io::stdout().lock(), &mut reader)?);
    }
    write_atomically(&args.output, |out| open(out, &mut reader))?;
    Ok(())
}

async fn decrypt_bare(
    client: &Client,
    file: File,
    args: &DecryptFileArgs,
) -> Result<(), CliFailure> {
    let mut text = String::new();
    file.take(MAX_BARE_BLOB_BYTES)
        .read_to_string(&mut text)
        .map_err(|_| {
            anyhow!(
                "{} is neither an openkms envelope file nor a CiphertextBlob",
                args.input.display()
            )
        })?;
    let mut params = vec![("CiphertextBlob", text.trim().to_owned())];
    if let Some(ctx) = &args.context {
        params.push(("EncryptionContext", ctx.clone()));
    }
    let reply = call(client, "Decrypt", &params).await?;
    let plaintext = SecretBytes::new(
        reply["Plaintext"]
            .as_str()
            .unwrap_or_default()
            .as_bytes()
            .to_vec(),
    );
    if args.output == Path::new("-") {
        std::io::stdout()
            .lock()
            .write_all(plaintext.expose_secret())?;
        return Ok(());
    }
    write_atomically(&args.output, |out| {
        Ok(out.write_all(plaintext.expose_secret())?)
    })?;
    Ok(())
}

/// A failure of a file command: an API error (exit 1) or anything else (exit 2).
#[derive(Debug)]
pub enum CliFailure {
    /// The server answered with an error.
    Api(openkms_client::ClientError),
    /// Anything else, already worded for the user.
    Other(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for CliFailure {
    fn from(e: E) -> Self {
        Self::Other(e.into())
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

fn parse_context(text: Option<&str>) -> anyhow::Result<serde_json::Map<String, Value>> {
    let Some(text) = text else {
        return Ok(serde_json::Map::new());
    };
    let value: Value = serde_json::from_str(text).context("--context: not JSON")?;
    match value {
        Value::Object(m) if m.values().all(Value::is_string) => Ok(m),
        _ => bail!("--context: must be a JSON object whose values are strings"),
    }
}

fn data_key(reply: &Value) -> anyhow::Result<SecretBytes> {
    let text = reply["Plaintext"]
        .as_str()
        .ok_or_else(|| anyhow!("the server sent no Plaintext"))?;
    let key = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| {
            anyhow!("the data key is not base64; is this an envelope file from openkms?")
        })?;
    if key.len() != 32 {
        bail!("the data key is {} bytes, expected 32", key.len());
    }
    Ok(SecretBytes::new(key))
}

fn new_header(reply: &Value, context: serde_json::Map<String, Value>) -> anyhow::Result<Header> {
    let field = |name: &str| {
        reply[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("the server sent no {name}"))
    };
    let mut prefix = [0u8; 7];
    OsRandom::new().fill(&mut prefix);
    Ok(Header {
        key_id: field("KeyId")?,
        ciphertext_blob: field("CiphertextBlob")?,
        encryption_context: context,
        cipher: "AES-256-GCM".into(),
        chunk_size: envelope::CHUNK_SIZE as u32,
        nonce_prefix: envelope::encode_prefix(&prefix),
    })
}

/// Writes through `fill` into a 0600 temporary file beside `path`, then renames it into place;
/// on failure the temporary file is removed and `path` is untouched.
fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".openkms-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    let mut out = std::io::BufWriter::new(tmp.as_file_mut());
    fill(&mut out)?;
    out.flush()?;
    drop(out);
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn progress(size: u64) -> Box<dyn FnMut(u64)> {
    if size <= PROGRESS_THRESHOLD || !std::io::stderr().is_terminal() {
        return Box::new(|_| {});
    }
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Box::new(move |done| {
        bar.set_position(done);
        if done >= size {
            bar.finish_and_clear();
        }
    })
}
