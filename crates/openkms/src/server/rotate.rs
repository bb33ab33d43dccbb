//! `openkms root-key rotate`: re-wrap everything under a new root key, with the servers
//! stopped.
//!
//! Takes the server's own settings (flags, `--config`, environment), so it opens the store and
//! the current root key exactly as `openkms server` would. The new key is read from
//! `--new-root-key-file` when that file exists, else generated and written there first
//! (default `<data-dir>/root.key.new`), so a re-run after a crash uses the same new key. The
//! re-wrap itself is one store transaction ([`openkms_core::rotation`]): killed at any moment,
//! the store is opened completely by the old key or by the new one, and a re-run finishes the
//! job. Last, when the old key was `<data-dir>/root.key` and the new one the default file, the
//! new file replaces `root.key` (an atomic rename).
//!
//! Why offline: a running server keeps the root key in memory and wraps new keys and
//! AccessKeys under it; after a rotation it would write rows the new key cannot open. On
//! SQLite the data directory's lock refuses to rotate while a server runs; on PostgreSQL the
//! database's serving lock, which every node holds shared while it serves, does.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use openkms_core::rotation::{RotationReport, rotate_root_key};
use openkms_core::{KeyService, OsRandom, RootKey, SecretBytes};
use openkms_pkcs11::Pkcs11Root;

use super::hygiene::{self, EnvSecrets};
use super::{Backend, Opener, open_store, read_root_key_file, store_location};

mod shamir;
use crate::config::{SealMode, ServerArgs, ServerConfig};
use crate::files;

/// Name of the new root key file written by default.
const NEW_ROOT_KEY_FILE: &str = "root.key.new";

/// `openkms root-key …`
#[derive(Debug, clap::Args)]
pub struct RootKeyArgs {
    #[command(subcommand)]
    command: RootKeyCommand,
}

#[derive(Debug, clap::Subcommand)]
enum RootKeyCommand {
    /// Re-wrap every key version and AccessKey secret under a new root key (servers stopped);
    /// with seal = shamir, T current shares are read from stdin and new shares printed.
    Rotate(Box<RotateArgs>),
}

#[derive(Debug, clap::Args)]
struct RotateArgs {
    /// The new root key (base64 of 32 bytes): read when the file exists, else generated and
    /// written there [default: <data-dir>/root.key.new].
    #[arg(long, env = "OPENKMS_NEW_ROOT_KEY_FILE")]
    new_root_key_file: Option<PathBuf>,
    /// With seal = pkcs11: the label of the new root key in the token, made there unless a key
    /// has it (a re-run).
    #[arg(long, env = "OPENKMS_NEW_PKCS11_KEY_LABEL")]
    new_pkcs11_key_label: Option<String>,
    /// The server's settings: which store, and where the current root key is.
    #[command(flatten)]
    server: ServerArgs,
}

/// Runs a `root-key` command.
pub fn run(args: RootKeyArgs) -> ExitCode {
    let RootKeyCommand::Rotate(args) = args.command;
    let RotateArgs {
        new_root_key_file,
        new_pkcs11_key_label,
        server,
    } = *args;
    let secrets = EnvSecrets::take();
    let result = ServerConfig::load(server).and_then(|config| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(rotate(
                config,
                secrets,
                new_root_key_file,
                new_pkcs11_key_label,
            ))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("openkms: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn rotate(
    config: ServerConfig,
    secrets: EnvSecrets,
    new_file: Option<PathBuf>,
    new_label: Option<String>,
) -> anyhow::Result<()> {
    if new_label.is_some() && config.seal.mode != SealMode::Pkcs11 {
        bail!("new_pkcs11_key_label: only meaningful with seal = pkcs11");
    }
    // The data directory's lock on either backend (a PostgreSQL node keeps its nonce journal
    // and audit log there), and with PostgreSQL the database's serving lock too.
    let _lock = files::lock_data_dir(&config.data_dir)?;
    let backend = open_store(&config, Opener::Rotation).await?;
    if !KeyService::data_exists(backend.store.as_ref()).await? {
        bail!(
            "root-key rotate: {} holds no keys yet; start a server on it first",
            store_location(&config)
        );
    }
    match config.seal.mode {
        SealMode::File => rotate_file(&config, &backend, secrets, new_file).await,
        _ if new_file.is_some() => {
            bail!("new_root_key_file: only meaningful with seal = file")
        }
        SealMode::Shamir => shamir::rotate(&backend).await,
        SealMode::Pkcs11 => {
            let label = new_label.context(
                "new_pkcs11_key_label: required with seal = pkcs11 (the new root key's label)",
            )?;
            rotate_token(&config, &backend, secrets, &label).await
        }
    }
}

/// The PKCS#11 seal: the new root key is another key in the same token, found by its label
/// (a re-run) or made there; the servers then start with `--pkcs11-key-label` set to it.
async fn rotate_token(
    config: &ServerConfig,
    backend: &Backend,
    secrets: EnvSecrets,
    new_label: &str,
) -> anyhow::Result<()> {
    let token = super::token::open(config, secrets.pkcs11_pin)?
        .context("pkcs11_module: required with seal = pkcs11")?;
    let old = super::token::root_seal(&token, config, backend.store.as_ref()).await?;
    let new = match Pkcs11Root::find(token.clone(), new_label).context("pkcs11: lookup")? {
        Some(found) => found,
        None => Pkcs11Root::create(token.clone(), new_label)
            .context("pkcs11: making the new root key")?,
    };
    let report = rotate_root_key(
        backend.rotation.as_ref(),
        old.as_ref(),
        &new,
        &OsRandom::new(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("root-key rotate: {e}"))?;
    print_summary(&report, None);
    eprintln!(
        "openkms: the store is now under the token key {new_label:?}; start the servers with \
         --pkcs11-key-label {new_label:?}, and delete the old key from the token once no backup \
         needs it"
    );
    Ok(())
}

/// The file seal: the new key from (or into) `--new-root-key-file`, installed over
/// `root.key` when both are the data directory's.
async fn rotate_file(
    config: &ServerConfig,
    backend: &Backend,
    secrets: EnvSecrets,
    new_file: Option<PathBuf>,
) -> anyhow::Result<()> {
    let from_data_dir = secrets.root_key.is_none() && config.hygiene.root_key_file.is_none();
    if !from_data_dir && new_file.is_none() {
        // Never put the new key where the old one was deliberately kept away from.
        bail!(
            "root-key rotate: the current root key is kept outside the data directory; give \
             --new-root-key-file (outside it too) for the new one"
        );
    }
    let old = read_root_key_file(config, secrets.root_key, backend.store.as_ref()).await?;
    let default_new = config.data_dir.join(NEW_ROOT_KEY_FILE);
    let new_path = new_file.unwrap_or_else(|| default_new.clone());
    let new = new_root_key(&new_path)?;
    let report = rotate_root_key(backend.rotation.as_ref(), &old, &new, &OsRandom::new())
        .await
        .map_err(|e| anyhow::anyhow!("root-key rotate: {e}"))?;
    let installed = match from_data_dir && new_path == default_new {
        true => Some(install(
            &new_path,
            &config.data_dir.join(files::ROOT_KEY_FILE),
        )?),
        false => None,
    };
    print_summary(&report, Some(installed.as_deref().unwrap_or(&new_path)));
    if installed.is_none() {
        eprintln!(
            "openkms: the store is now under the root key in {}; point the servers at it \
             (--root-key-file) before starting them",
            new_path.display()
        );
    }
    Ok(())
}

/// The new root key: the file's if it exists (a re-run), else a fresh one written there.
fn new_root_key(path: &Path) -> anyhow::Result<RootKey> {
    if path.exists() {
        let text = hygiene::read_secret_file("new_root_key_file", path)?;
        let text = std::str::from_utf8(text.expose_secret()).unwrap_or("");
        return RootKey::from_base64(text).with_context(|| {
            format!(
                "new_root_key_file: {} is not the base64 of 32 bytes",
                path.display()
            )
        });
    }
    let key = RootKey::generate(&OsRandom::new());
    let text = SecretBytes::new([key.to_base64().expose_secret(), b"\n"].concat());
    files::write_private(path, text.expose_secret(), true)?;
    Ok(key)
}

/// Puts the new key file in the old one's place (an atomic rename, then a directory fsync).
fn install(new: &Path, root_key: &Path) -> anyhow::Result<PathBuf> {
    std::fs::rename(new, root_key).with_context(|| {
        format!(
            "the store is rotated, but {} could not replace {}; rename it by hand",
            new.display(),
            root_key.display()
        )
    })?;
    files::sync_parent(root_key)?;
    Ok(root_key.to_owned())
}

/// The one JSON line of a finished rotation (with the new key's file for the file seal), and
/// the reminder about older backups.
#[allow(clippy::print_stdout)]
fn print_summary(report: &RotationReport, key_file: Option<&Path>) {
    let mut summary = serde_json::json!({
        "Rotated": !report.already_rotated,
        "AlreadyRotated": report.already_rotated,
        "KeyVersions": report.versions,
        "OtherKeyVersions": report.other_versions,
        "AccessKeys": report.access_keys,
    });
    if let Some(file) = key_file {
        summary["RootKeyFile"] = file.display().to_string().into();
    }
    println!("{summary}");
    eprintln!(
        "openkms: backups taken before this rotation still need the old root key (or shares); \
         keep it with them (never beside them) until they expire"
    );
}
