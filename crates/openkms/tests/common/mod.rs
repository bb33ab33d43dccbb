//! Shared helpers for the CLI integration tests: one `openkms server` process per test in its
//! own temporary directory (killed when the guard drops), CLI commands pointed at it with a
//! clean environment, and a freshly generated PEM private key.
//!
//! Not here: assertions about what the CLI prints; those live in the test files.

#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine as _;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_openkms");
/// The root AccessKey every test server is started with.
pub const ACCESS_KEY_ID: &str = "LTAI5tOpenkmsCliTest0001";
/// Its secret.
pub const ACCESS_KEY_SECRET: &str = "CliTestSecretCliTestSecret0123";
/// How long a debug build may take to print its ready line (it generates a CA and a root key).
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// The line prefix `openkms server` prints when it accepts connections.
const READY_PREFIX: &str = "openkms: ready on ";

/// One running `openkms server`; killed (and reaped) on drop.
pub struct Server {
    child: Child,
    /// The temporary directory holding the data dir, the server log and the CLI's config dir.
    pub dir: tempfile::TempDir,
    /// `https://127.0.0.1:<port>`.
    pub url: String,
}

impl Server {
    /// Starts a TLS server on 127.0.0.1:0 and waits for its ready line.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server on 127.0.0.1:0 with `extra` arguments (TLS unless they include
    /// `--insecure-http`) and waits for its ready line.
    pub fn start_with(extra: &[&str]) -> Self {
        let credentials = [
            ("OPENKMS_ROOT_ACCESS_KEY_ID", ACCESS_KEY_ID),
            ("OPENKMS_ROOT_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET),
        ];
        Self::start_with_env(extra, &credentials)
    }

    /// [`Self::start_with`] with `env` (the root credentials, say) instead of the root
    /// AccessKey in the environment.
    pub fn start_with_env(extra: &[&str], env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = File::create(dir.path().join("server.log")).expect("server log");
        let mut child = Command::new(BIN)
            .arg("server")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env_clear()
            .envs(env.iter().copied())
            .env("OPENKMS_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn openkms server");
        let stdout = child.stdout.take().expect("server stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut server = Self {
            child,
            dir,
            url: String::new(),
        };
        let line = rx.recv_timeout(READY_TIMEOUT).unwrap_or_default();
        let scheme = if extra.contains(&"--insecure-http") {
            "http"
        } else {
            "https"
        };
        match line.trim_end().strip_prefix(READY_PREFIX) {
            Some(url) if url.starts_with(&format!("{scheme}://127.0.0.1:")) => {
                url.clone_into(&mut server.url)
            }
            _ => panic!(
                "no ready line from openkms server (got {line:?}); log:\n{}",
                server.log()
            ),
        }
        server
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The private CA the server generated.
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("data").join("tls").join("ca.pem")
    }

    /// The directory the server writes its audit log to.
    pub fn audit_dir(&self) -> PathBuf {
        self.dir.path().join("data").join("audit")
    }

    /// An API client for this server as the root AccessKey, signing with `secret`.
    pub fn client(&self, secret: &str) -> openkms_client::Client {
        let tls = self.url.starts_with("https:");
        openkms_client::Client::new(openkms_client::ClientConfig {
            endpoint: self.url.clone(),
            ca_file: tls.then(|| self.ca()),
            access_key_id: ACCESS_KEY_ID.into(),
            access_key_secret: openkms_client::AccessKeySecret::new(secret),
            region_id: "cn-hangzhou".into(),
        })
        .expect("client")
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port")
    }

    /// A CLI command for this server: endpoint, CA and root credentials from the environment,
    /// as the seeds set them; config under the test's own directory.
    pub fn cli(&self) -> Command {
        let mut cmd = self.cli_without_credentials();
        cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET);
        cmd
    }

    /// A CLI command with endpoint and CA set but no credentials.
    pub fn cli_without_credentials(&self) -> Command {
        let mut cmd = bare_cli(self.dir.path());
        cmd.env("OPENKMS_ENDPOINT", &self.url)
            .env("ALIBABA_CLOUD_CA_BUNDLE", self.ca());
        cmd
    }

    /// Runs `CreateKey` and returns the new KeyId.
    pub fn create_key(&self) -> String {
        let out = run(self.cli().arg("CreateKey"));
        assert_eq!(out.code, 0, "CreateKey failed: {}", out.stderr);
        let json = out.json();
        json["KeyMetadata"]["KeyId"]
            .as_str()
            .expect("KeyMetadata.KeyId")
            .to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CLI command with an empty environment except a config home under `dir`, so nothing the
/// developer has set (or ~/.config/openkms) leaks in.
pub fn bare_cli(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("HOME", dir.join("home"))
        .env("XDG_CONFIG_HOME", dir.join("xdg"))
        .current_dir(dir)
        .stdin(Stdio::null());
    cmd
}

/// What a finished CLI command gave.
pub struct Run {
    /// The exit code (-1 if killed by a signal).
    pub code: i32,
    /// Standard output, as text.
    pub stdout: String,
    /// Standard output, raw.
    pub stdout_bytes: Vec<u8>,
    /// Standard error, as text.
    pub stderr: String,
}

impl Run {
    /// Standard output parsed as JSON; panics with both streams if it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Runs `cmd` to completion.
pub fn run(cmd: &mut Command) -> Run {
    let out: Output = cmd.output().expect("run openkms");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stdout_bytes: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `cmd` and asserts exit 0, returning what it printed.
pub fn run_ok(cmd: &mut Command) -> Run {
    let out = run(cmd);
    assert_eq!(
        out.code, 0,
        "{cmd:?} failed:\nstdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    out
}

/// A fresh RSA-2048 private key in PEM (PKCS#8), made at test time and never committed.
pub fn rsa_private_key_pem() -> String {
    use aws_lc_rs::encoding::AsDer;
    let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .expect("generate RSA key");
    let der: aws_lc_rs::encoding::Pkcs8V1Der<'static> = key.as_der().expect("PKCS#8");
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

/// The permission bits of `path`.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// Deterministic pseudo-random bytes (xorshift64), so a failure can be reproduced.
pub struct Noise(u64);

impl Noise {
    /// A generator seeded with `seed` (not zero).
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// Fills `buf`.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
    }

    /// `len` bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len];
        self.fill(&mut v);
        v
    }
}

/// Whether two files hold the same bytes, compared in 1 MiB pieces (never whole in memory).
pub fn same_contents(a: &Path, b: &Path) -> bool {
    let (mut fa, mut fb) = (
        BufReader::new(File::open(a).expect("open a")),
        BufReader::new(File::open(b).expect("open b")),
    );
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let na = read_full(&mut fa, &mut ba);
        let nb = read_full(&mut fb, &mut bb);
        if na != nb || ba[..na] != bb[..nb] {
            return false;
        }
        if na == 0 {
            return true;
        }
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]).expect("read") {
            0 => break,
            k => n += k,
        }
    }
    n
}

/// Files in `dir` whose names start with `.openkms-` (the CLI's temporary output files).
pub fn leftover_temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".openkms-"))
        .collect()
}

/// A server over a data directory the test owns (plain HTTP), its stderr to `log`, so that it
/// can be restarted over the same data; killed on drop.
pub struct Running {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Running {
    /// Starts it and waits for its ready line.
    pub fn start(data: &Path, log: &Path) -> Self {
        let stderr = std::fs::File::create(log).unwrap();
        let mut child = Command::new(BIN)
            .arg("server")
            .arg("--data-dir")
            .arg(data)
            .args(["--listen", "127.0.0.1:0", "--insecure-http"])
            .env_clear()
            .env("OPENKMS_ROOT_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("OPENKMS_ROOT_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
            .env("OPENKMS_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim_end()
            .strip_prefix("openkms: ready on ")
            .unwrap_or_else(|| panic!("no ready line: {line:?}"))
            .to_owned();
        Self { child, url }
    }

    /// Makes `n` requests, each one audit line.
    pub async fn calls(&self, n: usize) {
        let client = openkms_client::Client::new(openkms_client::ClientConfig {
            endpoint: self.url.clone(),
            ca_file: None,
            access_key_id: ACCESS_KEY_ID.into(),
            access_key_secret: openkms_client::AccessKeySecret::new(ACCESS_KEY_SECRET),
            region_id: "cn-hangzhou".into(),
        })
        .unwrap();
        for _ in 0..n {
            client.call("DescribeRegions", &[]).await.unwrap();
        }
    }

    /// Stops the server cleanly (SIGTERM) and waits for it to exit.
    pub fn stop(mut self) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "clean exit: {status}");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
