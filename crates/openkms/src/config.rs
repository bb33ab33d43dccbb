//! Server configuration: flags, `OPENKMS_*` environment variables and a TOML file, validated
//! once at start.
//!
//! Precedence: a flag (or its environment variable) over the file over the default. The raw
//! layers are merged into [`ServerConfig`], whose every field has been checked; a bad value is
//! one line naming the setting. Secrets (the root key from `OPENKMS_ROOT_KEY`) are never part
//! of this struct's `Debug`. The meaning of each setting is documented in
//! `docs/configuration.md`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use openkms_api::audit::{self, AuditConfig, Retention, SpaceGuard};
use openkms_api::{DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_SOURCE};
use serde::Deserialize;

use crate::cli::profile::path_or_empty;

// The explicit path lets the fuzz crate compile this file by `#[path]` too (docs/fuzzing.md).
#[path = "config/limits.rs"]
mod limits;
pub use limits::{LimitArgs, LimitConfig};
#[path = "config/seal.rs"]
mod seal;
pub use seal::{Seal, SealArgs, SealMode, TokenConfig};

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";
/// Default data directory.
pub const DEFAULT_DATA_DIR: &str = "./openkms-data";
/// Default region in ARNs.
pub const DEFAULT_REGION: &str = "cn-hangzhou";
/// Default time a request's headers, then its body, may take to arrive, and a reply's writing may
/// make no progress.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;

/// `openkms server` flags; each may also come from its environment variable.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServerArgs {
    /// A TOML configuration file.
    #[arg(long, env = "OPENKMS_CONFIG", value_parser = path_or_empty)]
    pub config: Option<PathBuf>,
    /// Where keys, the root key and TLS files live [default: ./openkms-data].
    #[arg(long, env = "OPENKMS_DATA_DIR", value_parser = path_or_empty)]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8443]; port 0 picks a free port.
    #[arg(long, env = "OPENKMS_LISTEN")]
    pub listen: Option<String>,
    /// PEM certificate chain to serve (with --tls-key); otherwise one is generated.
    #[arg(long, env = "OPENKMS_TLS_CERT", value_parser = path_or_empty)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "OPENKMS_TLS_KEY", value_parser = path_or_empty)]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP instead of TLS (for tests behind a TLS-terminating proxy only).
    #[arg(long, env = "OPENKMS_INSECURE_HTTP", value_parser = bool_or_empty)]
    pub insecure_http: bool,
    /// The web console at /console/ on a listener of its own: on or off [default: on].
    #[arg(long, env = "OPENKMS_CONSOLE", value_parser = ["on", "off"])]
    pub console: Option<String>,
    /// Address the console listens on [default: the API's address with port 8444, or port 0
    /// when the API's port is 0].
    #[arg(long, env = "OPENKMS_CONSOLE_LISTEN")]
    pub console_listen: Option<String>,
    /// Region id shown in ARNs [default: cn-hangzhou].
    #[arg(long, env = "OPENKMS_REGION_ID")]
    pub region_id: Option<String>,
    /// Account id shown in ARNs and as Creator [default: generated at first start].
    #[arg(long, env = "OPENKMS_ACCOUNT_ID")]
    pub account_id: Option<String>,
    /// PostgreSQL URL (postgres://user:password@host/db) instead of the embedded SQLite store;
    /// several nodes may share one database. The password is never logged. On the command
    /// line it is visible to every local user: prefer --database-url-file.
    #[arg(long, env = "OPENKMS_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<DatabaseUrl>,
    /// A file holding the PostgreSQL URL (trimmed), instead of --database-url.
    #[arg(long, env = "OPENKMS_DATABASE_URL_FILE", value_parser = path_or_empty)]
    pub database_url_file: Option<PathBuf>,
    /// Connections in the PostgreSQL pool [default: 16].
    #[arg(long, env = "OPENKMS_DATABASE_POOL_SIZE")]
    pub database_pool_size: Option<OrEmpty<usize>>,
    /// Serve Prometheus metrics on this address (plain HTTP, path /metrics) [default: off].
    #[arg(long, env = "OPENKMS_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// How long a node trusts its cached keys before re-reading them, in milliseconds, when
    /// nodes share a database [default: 500 with --database-url].
    #[arg(long, env = "OPENKMS_CACHE_TTL_MS")]
    pub cache_ttl_ms: Option<OrEmpty<i64>>,
    /// The audit log's active file, or `off` [default: <data-dir>/audit/audit.log].
    #[arg(long, env = "OPENKMS_AUDIT_LOG", value_parser = path_or_empty)]
    pub audit_log: Option<PathBuf>,
    /// Rotate the audit log before it would exceed this many bytes; 0 never rotates
    /// [default: 104857600].
    #[arg(long, env = "OPENKMS_AUDIT_MAX_BYTES")]
    pub audit_max_bytes: Option<OrEmpty<u64>>,
    /// Serve requests even when their audit line cannot be written (test setups only).
    #[arg(long, env = "OPENKMS_AUDIT_FAIL_OPEN", value_parser = bool_or_empty)]
    pub audit_fail_open: bool,
    /// Most client connections open at once; more wait in the listen backlog [default: 10000,
    /// or fewer when the open-file limit leaves less room].
    #[arg(long, env = "OPENKMS_MAX_CONNECTIONS")]
    pub max_connections: Option<OrEmpty<usize>>,
    /// Most connections one source (an IPv4 address, an IPv6 /64) holds at once; more are
    /// closed at once [default: 256].
    #[arg(long, env = "OPENKMS_MAX_CONNECTIONS_PER_SOURCE")]
    pub max_connections_per_source: Option<OrEmpty<usize>>,
    /// Seconds a request's headers, and then its body, may take to arrive, and writing a
    /// reply may make no progress [default: 30].
    #[arg(long, env = "OPENKMS_REQUEST_TIMEOUT_SECS")]
    pub request_timeout_secs: Option<OrEmpty<u64>>,
    /// Refuse audit lines (and so requests) when the audit volume's free space would fall
    /// under this many bytes [default: 268435456].
    #[arg(long, env = "OPENKMS_AUDIT_MIN_FREE_BYTES")]
    pub audit_min_free_bytes: Option<OrEmpty<u64>>,
    /// The same, in percent of the volume's size, 0 to 90; the larger applies [default: 1].
    #[arg(long, env = "OPENKMS_AUDIT_MIN_FREE_PERCENT")]
    pub audit_min_free_percent: Option<OrEmpty<u8>>,
    /// Keep at most this many rotated audit files, deleting the oldest; 0 keeps all
    /// [default: 0].
    #[arg(long, env = "OPENKMS_AUDIT_KEEP_FILES")]
    pub audit_keep_files: Option<OrEmpty<u64>>,
    /// Delete rotated audit files last written more than this many days ago; 0 keeps them
    /// [default: 0].
    #[arg(long, env = "OPENKMS_AUDIT_KEEP_DAYS")]
    pub audit_keep_days: Option<OrEmpty<u64>>,
    /// Requests that fail authentication written to the audit log one by one per second;
    /// the rest are counted in one summary line per second [default: 10].
    #[arg(long, env = "OPENKMS_AUDIT_UNAUTHENTICATED_PER_SECOND")]
    pub audit_unauthenticated_per_second: Option<OrEmpty<u32>>,
    /// A file holding the root key (base64 of 32 bytes), instead of <data-dir>/root.key.
    #[arg(long, env = "OPENKMS_ROOT_KEY_FILE", value_parser = path_or_empty)]
    pub root_key_file: Option<PathBuf>,
    /// A file holding the root AccessKey secret chosen at the first start (with
    /// OPENKMS_ROOT_ACCESS_KEY_ID), instead of OPENKMS_ROOT_ACCESS_KEY_SECRET.
    #[arg(long, env = "OPENKMS_ROOT_ACCESS_KEY_SECRET_FILE", value_parser = path_or_empty)]
    pub root_access_key_secret_file: Option<PathBuf>,
    /// Start even when the data directory is open to other users (logs a warning).
    #[arg(long, env = "OPENKMS_ALLOW_OPEN_DATA_DIR", value_parser = bool_or_empty)]
    pub allow_open_data_dir: bool,
    /// Keep the process dumpable and core dumps allowed (for debugging only).
    #[arg(long, env = "OPENKMS_ALLOW_CORE_DUMPS", value_parser = bool_or_empty)]
    pub allow_core_dumps: bool,
    /// Throttles and quotas.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Where the root key comes from.
    #[command(flatten)]
    pub seal: SealArgs,
}

impl ServerArgs {
    /// These flags with every empty value as unset: an empty environment variable
    /// (`OPENKMS_DATA_DIR=`, `OPENKMS_LISTEN=`) counts as unset, as it does for the CLI's
    /// connection settings ([`ConnectionArgs::given`](crate::cli::profile::ConnectionArgs::given)).
    pub fn given(self) -> Self {
        let path = |v: Option<PathBuf>| v.filter(|p| !p.as_os_str().is_empty());
        let text = |v: Option<String>| v.filter(|v| !v.is_empty());
        Self {
            config: path(self.config),
            data_dir: path(self.data_dir),
            listen: text(self.listen),
            tls_cert: path(self.tls_cert),
            tls_key: path(self.tls_key),
            insecure_http: self.insecure_http,
            console: text(self.console),
            console_listen: text(self.console_listen),
            region_id: text(self.region_id),
            account_id: text(self.account_id),
            database_url: self.database_url.filter(|u| !u.0.is_empty()),
            database_url_file: path(self.database_url_file),
            database_pool_size: OrEmpty::given(self.database_pool_size),
            metrics_listen: text(self.metrics_listen),
            cache_ttl_ms: OrEmpty::given(self.cache_ttl_ms),
            audit_log: path(self.audit_log),
            audit_max_bytes: OrEmpty::given(self.audit_max_bytes),
            audit_fail_open: self.audit_fail_open,
            max_connections: OrEmpty::given(self.max_connections),
            max_connections_per_source: OrEmpty::given(self.max_connections_per_source),
            request_timeout_secs: OrEmpty::given(self.request_timeout_secs),
            audit_min_free_bytes: OrEmpty::given(self.audit_min_free_bytes),
            audit_min_free_percent: OrEmpty::given(self.audit_min_free_percent),
            audit_keep_files: OrEmpty::given(self.audit_keep_files),
            audit_keep_days: OrEmpty::given(self.audit_keep_days),
            audit_unauthenticated_per_second: OrEmpty::given(self.audit_unauthenticated_per_second),
            root_key_file: path(self.root_key_file),
            root_access_key_secret_file: path(self.root_access_key_secret_file),
            allow_open_data_dir: self.allow_open_data_dir,
            allow_core_dumps: self.allow_core_dumps,
            limits: self.limits.given(),
            seal: self.seal.given(),
        }
    }
}

/// A number read from a flag or its environment variable, `None` when the value is empty
/// (which [`ServerArgs::given`] then drops), so `OPENKMS_CACHE_TTL_MS=` is not refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrEmpty<T>(pub Option<T>);

impl<T> OrEmpty<T> {
    /// The setting with an empty value as unset.
    fn given(value: Option<Self>) -> Option<Self> {
        value.filter(|n| n.0.is_some())
    }
}

impl<T: std::str::FromStr<Err: std::fmt::Display>> std::str::FromStr for OrEmpty<T> {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Ok(Self(None));
        }
        s.parse().map(|n| Self(Some(n))).map_err(|e| e.to_string())
    }
}

/// Reads a boolean flag's environment variable, an empty value as false (unset).
fn bool_or_empty(value: &str) -> Result<bool, String> {
    match value {
        "" | "false" => Ok(false),
        "true" => Ok(true),
        _ => Err(format!("{value:?} is not true or false")),
    }
}

/// A database URL; its `Debug` hides the whole value, since it may hold a password. Flags,
/// environment and file all read into it, so no `Debug` of the arguments can show one.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseUrl(<redacted>)")
    }
}

/// Where keys are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// SQLite in the data directory (the embedded default).
    Sqlite,
    /// A PostgreSQL database shared by the nodes.
    Postgres {
        /// The connection URL.
        url: DatabaseUrl,
        /// Pool size.
        pool_size: usize,
    },
}

/// The configuration file's shape; every field optional, unknown fields refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    insecure_http: Option<bool>,
    console: Option<String>,
    console_listen: Option<String>,
    region_id: Option<String>,
    account_id: Option<String>,
    database_url: Option<DatabaseUrl>,
    database_url_file: Option<PathBuf>,
    database_pool_size: Option<usize>,
    cache_ttl_ms: Option<i64>,
    metrics_listen: Option<String>,
    audit_log: Option<PathBuf>,
    audit_max_bytes: Option<u64>,
    audit_fail_open: Option<bool>,
    max_connections: Option<usize>,
    max_connections_per_source: Option<usize>,
    request_timeout_secs: Option<u64>,
    audit_min_free_bytes: Option<u64>,
    audit_min_free_percent: Option<u8>,
    audit_keep_files: Option<u64>,
    audit_keep_days: Option<u64>,
    audit_unauthenticated_per_second: Option<u32>,
    root_key_file: Option<PathBuf>,
    root_access_key_secret_file: Option<PathBuf>,
    allow_open_data_dir: Option<bool>,
    allow_core_dumps: Option<bool>,
    limits: Option<limits::LimitFile>,
    seal: Option<String>,
    pkcs11_module: Option<PathBuf>,
    pkcs11_token_label: Option<String>,
    pkcs11_key_label: Option<String>,
    pkcs11_pin_file: Option<PathBuf>,
}

impl FileConfig {
    /// The file's seal settings, taken out of it.
    fn take_seal(&mut self) -> SealArgs {
        SealArgs {
            seal: self.seal.take(),
            pkcs11_module: self.pkcs11_module.take(),
            pkcs11_token_label: self.pkcs11_token_label.take(),
            pkcs11_key_label: self.pkcs11_key_label.take(),
            pkcs11_pin_file: self.pkcs11_pin_file.take(),
        }
    }
}

/// How the server speaks on its socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// TLS with a certificate generated under the data directory.
    GeneratedTls,
    /// TLS with the operator's certificate and key.
    Tls {
        /// Certificate chain file.
        cert: PathBuf,
        /// Private key file.
        key: PathBuf,
    },
    /// Plain HTTP.
    InsecureHttp,
}

/// The validated server configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The listen address.
    pub listen: SocketAddr,
    /// TLS or not.
    pub transport: Transport,
    /// Region in ARNs.
    pub region_id: String,
    /// Account in ARNs, when configured.
    pub account_id: Option<String>,
    /// The store.
    pub storage: Storage,
    /// Where Prometheus metrics are served, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// Cache lifetime in milliseconds (`None`: entries live until changed).
    pub cache_ttl_ms: Option<i64>,
    /// The audit log; `None` when turned off.
    pub audit: Option<AuditConfig>,
    /// Most client connections open at once (before the open-file limit lowers it).
    pub max_connections: usize,
    /// Most client connections one source holds at once.
    pub max_connections_per_source: usize,
    /// How long a request's headers, and then its body, may take to arrive, and how long
    /// writing a reply may make no progress.
    pub request_timeout: Duration,
    /// Where the web console listens; `None` when it is off.
    pub console_listen: Option<SocketAddr>,
    /// Where secrets come from and how the process and its files are protected.
    pub hygiene: Hygiene,
    /// Throttles and quotas.
    pub limits: LimitConfig,
    /// Where the root key comes from, and the PKCS#11 token if one is configured.
    pub seal: Seal,
}

/// Secret files and the protections of the process and the data directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hygiene {
    /// The root key's file, when not `<data-dir>/root.key`.
    pub root_key_file: Option<PathBuf>,
    /// The file of the root AccessKey secret chosen at the first start.
    pub root_access_key_secret_file: Option<PathBuf>,
    /// Start (with a warning) when the data directory is open to other users.
    pub allow_open_data_dir: bool,
    /// Leave the process dumpable and core dumps allowed.
    pub allow_core_dumps: bool,
}

impl Hygiene {
    fn of(args: &ServerArgs, file: &FileConfig) -> Self {
        let flag = |arg: bool, file: Option<bool>| arg || file.unwrap_or(false);
        Self {
            root_key_file: args.root_key_file.clone().or(file.root_key_file.clone()),
            root_access_key_secret_file: args
                .root_access_key_secret_file
                .clone()
                .or(file.root_access_key_secret_file.clone()),
            allow_open_data_dir: flag(args.allow_open_data_dir, file.allow_open_data_dir),
            allow_core_dumps: flag(args.allow_core_dumps, file.allow_core_dumps),
        }
    }
}

impl ServerConfig {
    /// Merges flags, environment and file, and validates the result.
    pub fn load(args: ServerArgs) -> anyhow::Result<Self> {
        let mut args = args.given();
        let mut file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let audit_settings = AuditSettings::merge(&args, &file);
        let hygiene = Hygiene::of(&args, &file);
        let seal = Seal::load(
            std::mem::take(&mut args.seal).or(file.take_seal()),
            hygiene.root_key_file.is_some(),
        )?;
        let limits = LimitConfig::load(
            std::mem::take(&mut args.limits),
            file.limits.take().unwrap_or_default(),
        )?;
        let listen = args
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let insecure = args.insecure_http || file.insecure_http.unwrap_or(false);
        let console_listen = console_listen(
            args.console.as_deref().or(file.console.as_deref()),
            args.console_listen
                .as_deref()
                .or(file.console_listen.as_deref()),
            &listen,
        )?;
        let tls = (
            args.tls_cert.or(file.tls_cert),
            args.tls_key.or(file.tls_key),
        );
        let storage = storage(
            database_url(
                args.database_url.or(file.database_url),
                args.database_url_file.or(file.database_url_file),
            )?,
            args.database_pool_size
                .and_then(|n| n.0)
                .or(file.database_pool_size),
        )?;
        let audit = audit(
            audit_settings,
            args.data_dir.as_deref().or(file.data_dir.as_deref()),
        )?;
        Ok(Self {
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| DEFAULT_DATA_DIR.into()),
            listen: listen.parse().with_context(|| {
                format!("listen: {listen:?} is not an address such as 127.0.0.1:8443")
            })?,
            transport: transport(insecure, tls.0, tls.1)?,
            region_id: region(args.region_id.or(file.region_id))?,
            account_id: account(args.account_id.or(file.account_id))?,
            cache_ttl_ms: cache_ttl(
                &storage,
                args.cache_ttl_ms.and_then(|n| n.0).or(file.cache_ttl_ms),
            )?,
            metrics_listen: metrics_listen(args.metrics_listen.or(file.metrics_listen))?,
            audit,
            storage,
            max_connections: max_connections(
                args.max_connections
                    .and_then(|n| n.0)
                    .or(file.max_connections),
            )?,
            max_connections_per_source: max_connections_per_source(
                args.max_connections_per_source
                    .and_then(|n| n.0)
                    .or(file.max_connections_per_source),
            )?,
            console_listen,
            request_timeout: request_timeout(
                args.request_timeout_secs
                    .and_then(|n| n.0)
                    .or(file.request_timeout_secs),
            )?,
            hygiene,
            limits,
            seal,
        })
    }
}

/// The connection cap: 1 to 1,000,000, default [`DEFAULT_MAX_CONNECTIONS`].
fn max_connections(value: Option<usize>) -> anyhow::Result<usize> {
    match value.unwrap_or(DEFAULT_MAX_CONNECTIONS) {
        n @ 1..=1_000_000 => Ok(n),
        n => bail!("max_connections: {n} is not between 1 and 1000000"),
    }
}

/// The per-source connection limit: 1 to 1,000,000, default
/// [`DEFAULT_MAX_CONNECTIONS_PER_SOURCE`]. Above `max_connections` it bounds nothing.
fn max_connections_per_source(value: Option<usize>) -> anyhow::Result<usize> {
    match value.unwrap_or(DEFAULT_MAX_CONNECTIONS_PER_SOURCE) {
        n @ 1..=1_000_000 => Ok(n),
        n => bail!("max_connections_per_source: {n} is not between 1 and 1000000"),
    }
}

/// The request deadline: 1 to 3600 seconds, default 30.
fn request_timeout(value: Option<u64>) -> anyhow::Result<Duration> {
    match value.unwrap_or(DEFAULT_REQUEST_TIMEOUT_SECS) {
        n @ 1..=3600 => Ok(Duration::from_secs(n)),
        n => bail!("request_timeout_secs: {n} is not between 1 and 3600"),
    }
}

/// The console's address: `None` when `--console off`; else `--console-listen`, or the API's
/// host with port 8444 (port 0 when the API's port is 0, so test servers never collide).
fn console_listen(
    console: Option<&str>,
    listen: Option<&str>,
    api: &str,
) -> anyhow::Result<Option<SocketAddr>> {
    match console {
        None | Some("on") => {}
        Some("off") => return Ok(None),
        Some(other) => anyhow::bail!("console: {other:?} is neither \"on\" nor \"off\""),
    }
    if let Some(addr) = listen {
        let parsed = addr.parse().with_context(|| {
            format!("console_listen: {addr:?} is not an address such as 127.0.0.1:8444")
        })?;
        return Ok(Some(parsed));
    }
    let Ok(mut addr) = api.parse::<SocketAddr>() else {
        return Ok(None);
    };
    addr.set_port(if addr.port() == 0 { 0 } else { 8444 });
    Ok(Some(addr))
}

fn metrics_listen(value: Option<String>) -> anyhow::Result<Option<SocketAddr>> {
    value
        .map(|v| {
            v.parse().with_context(|| {
                format!("metrics_listen: {v:?} is not an address such as 127.0.0.1:9464")
            })
        })
        .transpose()
}

fn region(value: Option<String>) -> anyhow::Result<String> {
    let region = value.unwrap_or_else(|| DEFAULT_REGION.to_owned());
    validate_region(&region)?;
    Ok(region)
}

fn account(value: Option<String>) -> anyhow::Result<Option<String>> {
    if let Some(a) = &value {
        validate_account(a)?;
    }
    Ok(value)
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("config: cannot read {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        let why = toml_error(&e, &text);
        anyhow::anyhow!("config: {} is not valid: {why}", path.display())
    })
}

/// A TOML error as its position and message, never the file's text: the line toml would
/// quote may hold the database password, and so may a value a message quotes (`invalid type:
/// string "…"`), which is cut (issue 13, found by the `config` fuzz target).
fn toml_error(error: &toml::de::Error, text: &str) -> String {
    let mut message = String::with_capacity(error.message().len());
    for (i, part) in error.message().split('"').enumerate() {
        match i % 2 {
            0 => message.push_str(part),
            _ => message.push_str("\"…\""),
        }
    }
    let Some(before) = error.span().and_then(|s| text.get(..s.start)) else {
        return message;
    };
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}: {message}")
}

fn transport(
    insecure: bool,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
) -> anyhow::Result<Transport> {
    match (insecure, cert, key) {
        (true, None, None) => Ok(Transport::InsecureHttp),
        (true, _, _) => bail!("insecure_http: cannot be combined with tls_cert/tls_key"),
        (false, Some(cert), Some(key)) => Ok(Transport::Tls { cert, key }),
        (false, None, None) => Ok(Transport::GeneratedTls),
        (false, Some(_), None) => bail!("tls_key: required with tls_cert"),
        (false, None, Some(_)) => bail!("tls_cert: required with tls_key"),
    }
}

/// The database URL, given as itself or in a file (its contents trimmed), not both.
pub(crate) fn database_url(
    url: Option<DatabaseUrl>,
    url_file: Option<PathBuf>,
) -> anyhow::Result<Option<DatabaseUrl>> {
    let Some(path) = url_file else {
        return Ok(url);
    };
    if url.is_some() {
        bail!("database_url_file: cannot be combined with database_url");
    }
    let bytes = crate::files::read_private(&path).context("database_url_file: unreadable")?;
    let Ok(text) = String::from_utf8(bytes) else {
        bail!("database_url_file: {} is not UTF-8", path.display());
    };
    let text = text.trim();
    if text.is_empty() {
        bail!("database_url_file: {} is empty", path.display());
    }
    Ok(Some(DatabaseUrl(text.to_owned())))
}

fn storage(url: Option<DatabaseUrl>, pool_size: Option<usize>) -> anyhow::Result<Storage> {
    let Some(url) = url else {
        if pool_size.is_some() {
            bail!("database_pool_size: only meaningful with database_url");
        }
        return Ok(Storage::Sqlite);
    };
    if !(url.0.starts_with("postgres://") || url.0.starts_with("postgresql://")) {
        bail!("database_url: must start with postgres:// or postgresql://");
    }
    let pool_size = pool_size.unwrap_or(16);
    if !(1..=1024).contains(&pool_size) {
        bail!("database_pool_size: {pool_size} must be between 1 and 1024");
    }
    Ok(Storage::Postgres { url, pool_size })
}

fn cache_ttl(storage: &Storage, ttl: Option<i64>) -> anyhow::Result<Option<i64>> {
    match (storage, ttl) {
        (_, Some(ms)) if !(1..=3_600_000).contains(&ms) => {
            bail!("cache_ttl_ms: {ms} must be between 1 and 3600000")
        }
        (_, Some(ms)) => Ok(Some(ms)),
        (Storage::Postgres { .. }, None) => Ok(Some(500)),
        (Storage::Sqlite, None) => Ok(None),
    }
}

fn validate_region(region: &str) -> anyhow::Result<()> {
    let ok = !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        bail!("region_id: {region:?} must be lowercase letters, digits and '-', like cn-hangzhou");
    }
    Ok(())
}

/// The audit log settings as given (flag or environment over the file), before validation.
struct AuditSettings {
    path: Option<PathBuf>,
    max_bytes: Option<u64>,
    fail_open: bool,
    min_free_bytes: Option<u64>,
    min_free_percent: Option<u8>,
    keep_files: Option<u64>,
    keep_days: Option<u64>,
    unauthenticated_per_second: Option<u32>,
}

impl AuditSettings {
    fn merge(args: &ServerArgs, file: &FileConfig) -> Self {
        fn pick<T: Copy>(flag: Option<OrEmpty<T>>, file: Option<T>) -> Option<T> {
            flag.and_then(|n| n.0).or(file)
        }
        Self {
            path: args.audit_log.clone().or_else(|| file.audit_log.clone()),
            max_bytes: pick(args.audit_max_bytes, file.audit_max_bytes),
            fail_open: args.audit_fail_open || file.audit_fail_open.unwrap_or(false),
            min_free_bytes: pick(args.audit_min_free_bytes, file.audit_min_free_bytes),
            min_free_percent: pick(args.audit_min_free_percent, file.audit_min_free_percent),
            keep_files: pick(args.audit_keep_files, file.audit_keep_files),
            keep_days: pick(args.audit_keep_days, file.audit_keep_days),
            unauthenticated_per_second: pick(
                args.audit_unauthenticated_per_second,
                file.audit_unauthenticated_per_second,
            ),
        }
    }
}

/// The audit log settings: `off`, or a path (default under the data directory) with its
/// rotation size (0: never), failure mode, free-space guard, retention (0: keep) and budget
/// of lines for requests that fail authentication.
fn audit(raw: AuditSettings, data_dir: Option<&Path>) -> anyhow::Result<Option<AuditConfig>> {
    let path = match raw.path {
        Some(p) if p.as_os_str() == "off" => return Ok(None),
        Some(p) if p.as_os_str().is_empty() || p.file_name().is_none() => {
            bail!("audit_log: {p:?} must name a file (or be off)")
        }
        Some(p) => p,
        None => data_dir
            .unwrap_or(Path::new(DEFAULT_DATA_DIR))
            .join("audit")
            .join("audit.log"),
    };
    let min_free_percent = raw
        .min_free_percent
        .unwrap_or(audit::DEFAULT_MIN_FREE_PERCENT);
    if min_free_percent > 90 {
        bail!("audit_min_free_percent: {min_free_percent} must be between 0 and 90");
    }
    let per_second = raw
        .unauthenticated_per_second
        .unwrap_or(audit::DEFAULT_UNAUTHENTICATED_PER_SECOND);
    if per_second > 10_000 {
        bail!("audit_unauthenticated_per_second: {per_second} must be between 0 and 10000");
    }
    let nonzero = |n: Option<u64>| n.filter(|n| *n > 0);
    Ok(Some(AuditConfig {
        max_bytes: nonzero(Some(raw.max_bytes.unwrap_or(audit::DEFAULT_MAX_BYTES))),
        fail_open: raw.fail_open,
        space: SpaceGuard {
            min_free_bytes: raw.min_free_bytes.unwrap_or(audit::DEFAULT_MIN_FREE_BYTES),
            min_free_percent,
        },
        retention: Retention {
            keep_files: nonzero(raw.keep_files),
            keep_days: nonzero(raw.keep_days),
        },
        unauthenticated_per_second: per_second,
        ..AuditConfig::new(path)
    }))
}

fn validate_account(account: &str) -> anyhow::Result<()> {
    if account.is_empty() || account.len() > 32 || !account.bytes().all(|b| b.is_ascii_digit()) {
        bail!("account_id: {account:?} must be 1 to 32 digits");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = ServerConfig::load(ServerArgs::default()).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.transport, Transport::GeneratedTls);
        assert_eq!(c.region_id, DEFAULT_REGION);
        assert_eq!(c.storage, Storage::Sqlite);
        assert_eq!(c.cache_ttl_ms, None);
        assert_eq!(c.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(c.request_timeout, Duration::from_secs(30));
    }

    #[test]
    fn console_is_on_beside_the_api_unless_turned_off() {
        let c = ServerConfig::load(ServerArgs::default()).unwrap();
        assert_eq!(c.console_listen.unwrap().to_string(), "127.0.0.1:8444");
        let any_port = ServerConfig::load(ServerArgs {
            listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(any_port.console_listen.unwrap().to_string(), "127.0.0.1:0");
        let chosen = ServerConfig::load(ServerArgs {
            console_listen: Some("0.0.0.0:9444".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(chosen.console_listen.unwrap().to_string(), "0.0.0.0:9444");
        let off = ServerConfig::load(ServerArgs {
            console: Some("off".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(off.console_listen, None);
        let bad = ServerConfig::load(ServerArgs {
            console_listen: Some("nope".into()),
            ..Default::default()
        });
        assert!(bad.unwrap_err().to_string().starts_with("console_listen"));
    }

    #[test]
    fn connection_cap_and_request_timeout_are_bounded() {
        let c = ServerConfig::load(ServerArgs {
            max_connections: Some("64".parse().unwrap()),
            request_timeout_secs: Some("5".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.max_connections, 64);
        assert_eq!(c.request_timeout, Duration::from_secs(5));
        let e = |args: ServerArgs| ServerConfig::load(args).unwrap_err().to_string();
        let zero = ServerArgs {
            max_connections: Some("0".parse().unwrap()),
            ..Default::default()
        };
        assert!(e(zero).starts_with("max_connections"));
        let forever = ServerArgs {
            request_timeout_secs: Some("86400".parse().unwrap()),
            ..Default::default()
        };
        assert!(e(forever).starts_with("request_timeout_secs"));
    }

    #[test]
    fn connections_per_source_default_and_bounds() {
        let c = ServerConfig::load(ServerArgs::default()).unwrap();
        assert_eq!(
            c.max_connections_per_source,
            DEFAULT_MAX_CONNECTIONS_PER_SOURCE
        );
        let c = ServerConfig::load(ServerArgs {
            max_connections_per_source: Some("8".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.max_connections_per_source, 8);
        let e = ServerConfig::load(ServerArgs {
            max_connections_per_source: Some("0".parse().unwrap()),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("max_connections_per_source"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "max_connections_per_source = 3\n").unwrap();
        let c = ServerConfig::load(ServerArgs {
            config: Some(path),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.max_connections_per_source, 3);
    }

    #[test]
    fn the_database_url_may_come_from_a_file_but_not_with_a_url() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("url");
        std::fs::write(&file, "\n postgres://kms:s3cret@db/kms \n").unwrap();
        let c = ServerConfig::load(ServerArgs {
            database_url_file: Some(file.clone()),
            ..Default::default()
        })
        .unwrap();
        let Storage::Postgres { url, .. } = c.storage else {
            panic!("not PostgreSQL");
        };
        assert_eq!(url.0, "postgres://kms:s3cret@db/kms");
        let e = ServerConfig::load(ServerArgs {
            database_url: Some("postgres://kms:other@db/kms".parse().unwrap()),
            database_url_file: Some(file),
            ..Default::default()
        })
        .unwrap_err();
        let e = format!("{e:#}");
        assert!(
            e.starts_with("database_url_file: cannot be combined"),
            "{e}"
        );
        assert!(!e.contains("s3cret") && !e.contains("other"), "{e}");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, " \n").unwrap();
        let e = ServerConfig::load(ServerArgs {
            database_url_file: Some(empty),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("is empty"), "{e}");
    }

    #[test]
    fn empty_values_count_as_unset() {
        let args = ServerArgs {
            data_dir: Some(PathBuf::new()),
            listen: Some(String::new()),
            region_id: Some(String::new()),
            database_url: Some(DatabaseUrl(String::new())),
            audit_log: Some(PathBuf::new()),
            audit_max_bytes: Some("".parse().unwrap()),
            ..Default::default()
        };
        let c = ServerConfig::load(args).unwrap();
        assert_eq!(c.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.region_id, DEFAULT_REGION);
        assert_eq!(c.storage, Storage::Sqlite);
        let audit = c.audit.unwrap();
        assert_eq!(audit.max_bytes, Some(audit::DEFAULT_MAX_BYTES));
        assert!("x".parse::<OrEmpty<u64>>().is_err());
        assert_eq!(bool_or_empty(""), Ok(false));
        assert!(bool_or_empty("yes").is_err());
    }

    #[test]
    fn database_url_is_validated_and_never_shown() {
        let args = ServerArgs {
            database_url: Some("postgres://kms:s3cret@db/kms".parse().unwrap()),
            ..Default::default()
        };
        assert!(!format!("{args:?}").contains("s3cret"));
        let c = ServerConfig::load(args).unwrap();
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(c.cache_ttl_ms, Some(500));
        let bad = ServerArgs {
            database_url: Some("mysql://x:s3cret@h".parse().unwrap()),
            ..Default::default()
        };
        let e = ServerConfig::load(bad).unwrap_err().to_string();
        assert!(e.starts_with("database_url") && !e.contains("s3cret"));
    }

    #[test]
    fn flag_beats_file_and_file_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\nregion_id = \"eu-central-1\"\n",
        )
        .unwrap();
        let args = ServerArgs {
            config: Some(path),
            region_id: Some("us-west-1".into()),
            ..Default::default()
        };
        let c = ServerConfig::load(args).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(c.region_id, "us-west-1");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let e = |args: ServerArgs| ServerConfig::load(args).unwrap_err().to_string();
        assert!(
            e(ServerArgs {
                listen: Some("nope".into()),
                ..Default::default()
            })
            .starts_with("listen")
        );
        assert!(
            e(ServerArgs {
                region_id: Some("CN HZ".into()),
                ..Default::default()
            })
            .starts_with("region_id")
        );
        assert!(
            e(ServerArgs {
                account_id: Some("12ab".into()),
                ..Default::default()
            })
            .starts_with("account_id")
        );
        assert!(
            e(ServerArgs {
                tls_cert: Some("c".into()),
                ..Default::default()
            })
            .starts_with("tls_key")
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        assert!(
            e(ServerArgs {
                config: Some(path),
                ..Default::default()
            })
            .starts_with("config")
        );
    }

    #[test]
    fn a_bad_file_is_refused_without_showing_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        let load = |text: &str| {
            std::fs::write(&path, text).unwrap();
            let args = ServerArgs {
                config: Some(path.clone()),
                ..Default::default()
            };
            format!("{:#}", ServerConfig::load(args).unwrap_err())
        };
        let url = "database_url = \"postgres://kms:s3cret@db/kms\"";
        let e = load(&format!("region_id = \"x\"\n{url} listen = 1\n"));
        assert!(
            e.starts_with("config:") && e.contains("line 2, column"),
            "{e}"
        );
        assert!(!e.contains("s3cret"), "{e}");
        let e = load("database_pool_size = \"postgres://kms:s3cret@db/kms\"\n");
        assert!(e.contains("invalid type") && !e.contains("s3cret"), "{e}");
    }

    #[test]
    fn audit_log_defaults_under_the_data_dir_and_can_be_off() {
        let c = ServerConfig::load(ServerArgs {
            data_dir: Some("/srv/kms".into()),
            ..Default::default()
        })
        .unwrap();
        let audit = c.audit.unwrap();
        assert_eq!(audit.path, Path::new("/srv/kms/audit/audit.log"));
        assert_eq!(audit.max_bytes, Some(audit::DEFAULT_MAX_BYTES));
        assert!(!audit.fail_open);
        let off = ServerArgs {
            audit_log: Some("off".into()),
            ..Default::default()
        };
        assert_eq!(ServerConfig::load(off).unwrap().audit, None);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "audit_log = \"/var/log/kms.jsonl\"\naudit_max_bytes = 0\naudit_fail_open = true\n",
        )
        .unwrap();
        let c = ServerConfig::load(ServerArgs {
            config: Some(path),
            ..Default::default()
        })
        .unwrap();
        let audit = c.audit.unwrap();
        assert_eq!(audit.path, Path::new("/var/log/kms.jsonl"));
        assert_eq!((audit.max_bytes, audit.fail_open), (None, true));
        let e = ServerConfig::load(ServerArgs {
            audit_log: Some("/".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.to_string().starts_with("audit_log"));
    }

    #[test]
    fn audit_guard_retention_and_budget() {
        let c = ServerConfig::load(ServerArgs::default()).unwrap();
        let audit = c.audit.unwrap();
        assert_eq!(audit.space, SpaceGuard::default());
        assert_eq!(audit.retention, Retention::default());
        assert_eq!(
            audit.unauthenticated_per_second,
            audit::DEFAULT_UNAUTHENTICATED_PER_SECOND
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "audit_min_free_bytes = 1000\naudit_min_free_percent = 5\naudit_keep_files = 3\n\
             audit_keep_days = 0\naudit_unauthenticated_per_second = 2\n",
        )
        .unwrap();
        let c = ServerConfig::load(ServerArgs {
            config: Some(path),
            audit_keep_days: Some("30".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
        let audit = c.audit.unwrap();
        assert_eq!(
            (audit.space.min_free_bytes, audit.space.min_free_percent),
            (1000, 5)
        );
        assert_eq!(
            (audit.retention.keep_files, audit.retention.keep_days),
            (Some(3), Some(30))
        );
        assert_eq!(audit.unauthenticated_per_second, 2);
        let e = |args: ServerArgs| ServerConfig::load(args).unwrap_err().to_string();
        assert!(
            e(ServerArgs {
                audit_min_free_percent: Some("91".parse().unwrap()),
                ..Default::default()
            })
            .starts_with("audit_min_free_percent")
        );
        assert!(
            e(ServerArgs {
                audit_unauthenticated_per_second: Some("10001".parse().unwrap()),
                ..Default::default()
            })
            .starts_with("audit_unauthenticated_per_second")
        );
    }
}
