//! `--spawn-server`: a server of our own for the run, and the server's memory.
//!
//! [`Spawned::start`] runs this very binary as `openkms server --listen 127.0.0.1:0` over a
//! temporary (or the given) data directory, with the root AccessKey passed in
//! `OPENKMS_ROOT_ACCESS_KEY_ID`/`_SECRET` (the caller's `ALIBABA_CLOUD_*` credentials when
//! set, otherwise fresh random ones), and times it from spawn to its ready line on stdout.
//! The server's log goes to a file in the temporary directory, shown if it fails. What is
//! measured over the server is not decided here.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use openkms_client::AccessKeySecret;

use super::{BenchArgs, Target};

/// What the server prints when it is ready, followed by its URL.
const READY_PREFIX: &str = "openkms: ready on ";
/// How long the server may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the server may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// A running server started by the bench.
pub struct Spawned {
    child: Child,
    endpoint: String,
    data_dir: PathBuf,
    https: bool,
    credentials: (String, String),
    ready_after: Duration,
    /// Holds the temporary data directory and the log file until the server is stopped.
    _scratch: tempfile::TempDir,
}

impl Spawned {
    /// Starts the server and waits for its ready line.
    pub fn start(args: &BenchArgs) -> anyhow::Result<Self> {
        let scratch =
            tempfile::tempdir().context("--spawn-server: cannot make a temporary directory")?;
        let data_dir = args
            .server_data_dir
            .clone()
            .unwrap_or_else(|| scratch.path().join("data"));
        let credentials = credentials()?;
        let log_path = scratch.path().join("server.log");
        let started = Instant::now();
        let mut child = command(&data_dir, args.insecure_http_ok, &credentials, &log_path)?
            .spawn()
            .context("--spawn-server: cannot start `openkms server`")?;
        let endpoint = match wait_ready(&mut child) {
            Ok(endpoint) => endpoint,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                bail!("{e:#}; the server's log:\n{log}");
            }
        };
        Ok(Self {
            ready_after: started.elapsed(),
            child,
            endpoint,
            data_dir,
            https: !args.insecure_http_ok,
            credentials,
            _scratch: scratch,
        })
    }

    /// Where and as whom to connect.
    pub fn target(&self) -> Target {
        Target {
            endpoint: self.endpoint.clone(),
            ca_file: self.https.then(|| self.data_dir.join("tls").join("ca.pem")),
            access_key_id: self.credentials.0.clone(),
            secret: AccessKeySecret::new(self.credentials.1.clone()),
            region_id: "cn-hangzhou".to_owned(),
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// From spawn to the ready line.
    pub fn ready_after(&self) -> Duration {
        self.ready_after
    }

    /// Stops the server with SIGTERM (SIGKILL if it does not stop in time).
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("openkms bench: the server did not stop within {STOP_TIMEOUT:?}; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The root AccessKey to give the server: the caller's, or a fresh random pair.
fn credentials() -> anyhow::Result<(String, String)> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(id), Some(secret)) = (
        env("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        env("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    ) {
        return Ok((id, secret));
    }
    let mut raw = [0u8; 24];
    aws_lc_rs::rand::fill(&mut raw).map_err(|_| anyhow::anyhow!("no system randomness"))?;
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    Ok((format!("LTAIbench{}", &hex[..16]), hex[16..].to_owned()))
}

fn command(
    data_dir: &Path,
    http: bool,
    credentials: &(String, String),
    log_path: &Path,
) -> anyhow::Result<Command> {
    let exe = std::env::current_exe().context("--spawn-server: cannot find this binary")?;
    let log = std::fs::File::create(log_path)
        .with_context(|| format!("--spawn-server: cannot create {}", log_path.display()))?;
    let mut cmd = Command::new(exe);
    cmd.arg("server")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0"])
        .env("OPENKMS_ROOT_ACCESS_KEY_ID", &credentials.0)
        .env("OPENKMS_ROOT_ACCESS_KEY_SECRET", &credentials.1)
        .env(
            "OPENKMS_LOG",
            std::env::var("OPENKMS_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    if http {
        cmd.arg("--insecure-http");
    }
    Ok(cmd)
}

/// Reads the child's stdout until the ready line; returns the URL in it. A thread keeps
/// draining stdout afterwards so the server never blocks on a full pipe.
fn wait_ready(child: &mut Child) -> anyhow::Result<String> {
    let stdout = child.stdout.take().context("no stdout from the server")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix(READY_PREFIX) {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    rx.recv_timeout(READY_TIMEOUT)
        .map_err(|_| match child.try_wait() {
            Ok(Some(status)) => anyhow::anyhow!("--spawn-server: the server exited ({status})"),
            _ => anyhow::anyhow!("--spawn-server: no ready line within {READY_TIMEOUT:?}"),
        })
}
