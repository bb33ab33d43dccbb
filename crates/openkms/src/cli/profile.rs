//! Where the CLI connects and as whom: flags, environment, and named profiles.
//!
//! Credentials come from `ALIBABA_CLOUD_ACCESS_KEY_ID` / `ALIBABA_CLOUD_ACCESS_KEY_SECRET` (as
//! the seeds use them) or from a profile in `~/.config/openkms/config.toml` (mode 0600),
//! written by `openkms configure`. The endpoint is `--endpoint`, `OPENKMS_ENDPOINT`, the
//! profile's, or `https://127.0.0.1:8443`; the CA is `--ca-file`, `ALIBABA_CLOUD_CA_BUNDLE`, the
//! profile's, or — for the local default endpoint — `./openkms-data/tls/ca.pem` when present.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use openkms_client::AccessKeySecret;
use openkms_core::SecretBytes;
use serde::{Deserialize, Serialize};

use crate::files;

/// The endpoint used when nothing else names one.
pub const DEFAULT_ENDPOINT: &str = "https://127.0.0.1:8443";
/// The CA file tried for the default endpoint.
const LOCAL_CA: &str = "./openkms-data/tls/ca.pem";
/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "default";

/// Connection flags shared by every command that talks to a server.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnectionArgs {
    /// Server URL [default: https://127.0.0.1:8443].
    #[arg(long, global = true, env = "OPENKMS_ENDPOINT")]
    pub endpoint: Option<String>,
    /// CA certificate (PEM) to trust for the server.
    #[arg(long, global = true, env = "ALIBABA_CLOUD_CA_BUNDLE", value_parser = path_or_empty)]
    pub ca_file: Option<PathBuf>,
    /// Profile in ~/.config/openkms/config.toml [default: default].
    #[arg(long, global = true, env = "OPENKMS_PROFILE")]
    pub profile: Option<String>,
}

impl ConnectionArgs {
    /// These flags with every empty value as unset: an empty environment variable
    /// (`ALIBABA_CLOUD_CA_BUNDLE=`) counts as unset, as it does for the SDKs.
    pub fn given(&self) -> Self {
        let text = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        Self {
            endpoint: text(&self.endpoint),
            ca_file: self.ca_file.clone().filter(|p| !p.as_os_str().is_empty()),
            profile: text(&self.profile),
        }
    }
}

/// Reads a path, accepting an empty one (which [`ConnectionArgs::given`] and
/// `ServerArgs::given` then drop), so an empty environment variable is not refused as "a value is required".
pub(crate) fn path_or_empty(value: &str) -> Result<PathBuf, std::convert::Infallible> {
    Ok(PathBuf::from(value))
}

/// One named profile.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Server URL.
    pub endpoint: Option<String>,
    /// CA file.
    pub ca_file: Option<PathBuf>,
    /// AccessKeyId.
    pub access_key_id: Option<String>,
    /// AccessKeySecret (the file is mode 0600).
    pub access_key_secret: Option<String>,
    /// Region id sent as RegionId.
    pub region_id: Option<String>,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field(
                "access_key_secret",
                &self.access_key_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// The config file: profiles by name.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// Everything needed to open a connection.
#[derive(Debug)]
pub struct Connection {
    /// Server URL.
    pub endpoint: String,
    /// CA file, if any.
    pub ca_file: Option<PathBuf>,
    /// AccessKeyId.
    pub access_key_id: String,
    /// AccessKeySecret.
    pub access_key_secret: AccessKeySecret,
    /// RegionId.
    pub region_id: String,
}

/// `~/.config/openkms/config.toml` (or under `$XDG_CONFIG_HOME`).
pub fn config_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from(".config"));
    base.join("openkms").join("config.toml")
}

/// Resolves flags, environment and profile into a connection.
pub fn resolve(args: &ConnectionArgs) -> anyhow::Result<Connection> {
    let args = &args.given();
    let name = args
        .profile
        .clone()
        .unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
    let path = config_path();
    let profile = load(&path)?.profiles.remove(&name).unwrap_or_default();
    if args.profile.is_some() && profile.access_key_id.is_none() {
        bail!(
            "profile {name:?} is not in {}; create it with `openkms configure --profile {name}`",
            path.display()
        );
    }
    let (endpoint, ca_file) = place(args, &profile);
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let from_env = match (
        env("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        env("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    ) {
        (Some(id), Some(secret)) => Some((id, secret)),
        _ => None,
    };
    let from_profile = match (profile.access_key_id, profile.access_key_secret) {
        (Some(id), Some(secret)) => Some((id, secret)),
        _ => None,
    };
    // A profile named on the command line wins; otherwise the environment, as in the seeds.
    let chosen = match args.profile.is_some() {
        true => from_profile.or(from_env),
        false => from_env.or(from_profile),
    };
    let Some((id, secret)) = chosen else {
        bail!(
            "no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, \
             or run `openkms configure` to store a profile in {}",
            path.display()
        );
    };
    let region_id = env("ALIBABA_CLOUD_REGION_ID")
        .or(profile.region_id)
        .unwrap_or_else(|| "cn-hangzhou".to_owned());
    Ok(Connection {
        endpoint,
        ca_file,
        access_key_id: id,
        access_key_secret: AccessKeySecret::new(secret),
        region_id,
    })
}

/// Resolves only where the server is (endpoint and CA), for the requests no AccessKey signs
/// (`openkms operator init`, `unseal`, `status`).
pub fn resolve_endpoint(args: &ConnectionArgs) -> anyhow::Result<(String, Option<PathBuf>)> {
    let args = &args.given();
    let name = args.profile.as_deref().unwrap_or(DEFAULT_PROFILE);
    let profile = load(&config_path())?
        .profiles
        .remove(name)
        .unwrap_or_default();
    Ok(place(args, &profile))
}

/// The endpoint and CA file: flags and environment over the profile, then the defaults.
fn place(args: &ConnectionArgs, profile: &Profile) -> (String, Option<PathBuf>) {
    let endpoint = args
        .endpoint
        .clone()
        .or_else(|| profile.endpoint.clone())
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
    let ca_file = args
        .ca_file
        .clone()
        .or_else(|| profile.ca_file.clone())
        .or_else(|| local_ca(&endpoint));
    (endpoint, ca_file)
}

fn local_ca(endpoint: &str) -> Option<PathBuf> {
    (endpoint.trim_end_matches('/') == DEFAULT_ENDPOINT && Path::new(LOCAL_CA).exists())
        .then(|| LOCAL_CA.into())
}

fn load(path: &Path) -> anyhow::Result<ConfigFile> {
    if !path.exists() {
        return Ok(ConfigFile::default());
    }
    let text = files::read_private(path)?;
    let text =
        std::str::from_utf8(&text).with_context(|| format!("{} is not UTF-8", path.display()))?;
    toml::from_str(text)
        .with_context(|| format!("{} is not a valid openkms config", path.display()))
}

/// `openkms configure` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigureArgs {
    /// AccessKeyId (prompted when absent).
    #[arg(long)]
    pub access_key_id: Option<String>,
    /// Server URL to store in the profile.
    #[arg(long = "set-endpoint")]
    pub set_endpoint: Option<String>,
    /// CA file to store in the profile.
    #[arg(long = "set-ca-file")]
    pub set_ca_file: Option<PathBuf>,
    /// Region id to store in the profile.
    #[arg(long)]
    pub region_id: Option<String>,
}

/// Writes a profile; the secret is read from standard input (one line; at a terminal without
/// echoing it), never from a flag, so it lands neither in shell history nor on the screen.
pub fn configure(args: ConfigureArgs, conn: &ConnectionArgs) -> anyhow::Result<()> {
    let conn = &conn.given();
    let name = conn
        .profile
        .clone()
        .unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
    let path = config_path();
    let mut file = load(&path)?;
    let mut stdin = std::io::stdin().lock();
    let id = match args.access_key_id {
        Some(id) => id,
        None => prompt(&mut stdin, "AccessKeyId: ")?,
    };
    let secret = match std::io::stdin().is_terminal() {
        // Typed at a terminal: not echoed.
        true => rpassword::prompt_password("AccessKeySecret: ")?
            .trim()
            .to_owned(),
        // Piped (scripts, tests): one line.
        false => prompt(&mut stdin, "AccessKeySecret: ")?,
    };
    if id.is_empty() || secret.is_empty() {
        bail!("AccessKeyId and AccessKeySecret must not be empty");
    }
    let profile = Profile {
        endpoint: args.set_endpoint.or_else(|| conn.endpoint.clone()),
        ca_file: args.set_ca_file.or_else(|| conn.ca_file.clone()),
        access_key_id: Some(id),
        access_key_secret: Some(secret),
        region_id: args.region_id,
    };
    file.profiles.insert(name.clone(), profile);
    let text = SecretBytes::new(toml::to_string(&file)?.into_bytes());
    if let Some(dir) = path.parent() {
        files::ensure_dir(dir)?;
    }
    files::write_private(&path, text.expose_secret(), false)?;
    eprintln!("saved profile {name:?} in {}", path.display());
    Ok(())
}

fn prompt(input: &mut impl BufRead, label: &str) -> anyhow::Result<String> {
    eprint!("{label}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    input.read_line(&mut line)?;
    Ok(line.trim().to_owned())
}
