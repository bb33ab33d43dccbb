//! `openkms operator init|unseal|status|seal`: the Shamir seal of a running server.
//!
//! The commands reach the server like every CLI command (`--endpoint`/`OPENKMS_ENDPOINT`,
//! `--ca-file`/`ALIBABA_CLOUD_CA_BUNDLE`, or the profile). init, unseal and status are not
//! signed — a sealed server has no AccessKey secrets to check a signature with — and send
//! JSON to `/openkms/operator/…`; seal is a request signed by the root AccessKey. The wire
//! form is the api crate's (`handler/operator.rs`), the runbook `docs/custody.md`. A share
//! given on standard input (no argument, or `-`) stays out of shell history and `ps`; init's
//! one-time init token is read from the file the server wrote (`--init-token-file`, or `-`
//! for standard input), never from an argument.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::Context;

use openkms_client::{Client, ClientError, HttpMethod, RawRequest};
use openkms_core::SecretBytes;

use super::output;
use super::profile::{self, ConnectionArgs};

/// Where the operator endpoints live.
const PREFIX: &str = "/openkms/operator/";

/// `openkms operator` and its subcommand.
#[derive(Debug, clap::Args)]
pub struct OperatorArgs {
    #[command(subcommand)]
    command: OperatorCommand,
}

/// No derived `Debug`: `Unseal` may hold a share.
#[derive(clap::Subcommand)]
enum OperatorCommand {
    /// Once, on a sealed server (--seal shamir) whose store is empty: make the root key, split
    /// it into unseal shares and print them and the root AccessKey as JSON. They are shown
    /// only this once; the server stays sealed until unsealed with them. Needs the init token
    /// the server wrote to <data-dir>/init-token at its start (it removes the file after init).
    Init {
        /// How many shares to make (1 to 255).
        #[arg(long)]
        shares: u32,
        /// How many shares unseal (at least 2 unless --shares is 1, at most --shares).
        #[arg(long)]
        threshold: u32,
        /// The server's init token file (<data-dir>/init-token on the server's host), or `-`
        /// to read the token from standard input.
        #[arg(long, value_name = "PATH")]
        init_token_file: std::path::PathBuf,
    },
    /// Submit one unseal share; repeat (with other shares) until the threshold is reached.
    /// With no share, or `-`, it is read from standard input (kept out of shell history).
    Unseal {
        /// The share (okms1-…).
        share: Option<String>,
    },
    /// Show whether the server is sealed, its threshold and the unseal progress (JSON).
    Status,
    /// Seal a running server (signed with the root AccessKey): it drops the key service and
    /// every key in memory, and answers 503 until unsealed again.
    Seal,
}

impl std::fmt::Debug for OperatorCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Init { .. } => "Init",
            Self::Unseal { .. } => "Unseal",
            Self::Status => "Status",
            Self::Seal => "Seal",
        })
    }
}

/// The init request's body, serialized straight into a buffer wiped on drop.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct InitBody<'a> {
    shares: u32,
    threshold: u32,
    init_token: &'a str,
}

/// The unseal request's body, serialized straight into a buffer wiped on drop.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct UnsealBody<'a> {
    share: &'a str,
}

/// Runs an operator command.
pub fn run(args: OperatorArgs, conn: &ConnectionArgs) -> ExitCode {
    match args.command {
        OperatorCommand::Seal => seal(conn),
        command => unsigned(command, conn),
    }
}

fn unsigned(command: OperatorCommand, conn: &ConnectionArgs) -> ExitCode {
    let client = match unsigned_client(conn) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let (method, path, body) = match request(command) {
        Ok(request) => request,
        Err(e) => {
            eprintln!("ERROR: {e:#}");
            return ExitCode::from(output::EXIT_CONNECTION);
        }
    };
    let path = format!("{PREFIX}{path}");
    let body = body.map(|b| b.expose_secret().to_vec());
    let reply = super::block_on(async { client.send_json(method, &path, body).await });
    let reply = reply.and_then(|r| r.into_result());
    if path.ends_with("init") && reply.is_ok() {
        eprintln!(
            "openkms: these shares and this root AccessKey are shown only now: give each share to a different holder, and keep none of them beside the server's data or its backups"
        );
    }
    finish(reply)
}

/// The method, path under [`PREFIX`] and JSON body of an unsigned command.
fn request(
    command: OperatorCommand,
) -> anyhow::Result<(HttpMethod, &'static str, Option<SecretBytes>)> {
    Ok(match command {
        OperatorCommand::Init {
            shares,
            threshold,
            init_token_file,
        } => {
            let token = read_init_token(&init_token_file)?;
            let text = std::str::from_utf8(token.expose_secret()).unwrap_or_default();
            let body = InitBody {
                shares,
                threshold,
                init_token: text.trim(),
            };
            (HttpMethod::Post, "init", Some(secret_json(&body)?))
        }
        OperatorCommand::Unseal { share } => {
            let share = match share.filter(|s| s != "-") {
                Some(share) => SecretBytes::new(share.into_bytes()),
                None => read_share()?,
            };
            let text = std::str::from_utf8(share.expose_secret()).unwrap_or_default();
            let body = secret_json(&UnsealBody { share: text.trim() })?;
            (HttpMethod::Post, "unseal", Some(body))
        }
        OperatorCommand::Status | OperatorCommand::Seal => (HttpMethod::Get, "status", None),
    })
}

/// `body` as JSON in a buffer sized once (no reallocation leaves a copy) and wiped on drop.
fn secret_json(body: &impl serde::Serialize) -> anyhow::Result<SecretBytes> {
    let mut buf = Vec::with_capacity(512);
    let written = serde_json::to_writer(&mut buf, body);
    let buf = SecretBytes::new(buf);
    written?;
    Ok(buf)
}

/// The init token from `path` (the file the server wrote) or, for `-`, standard input.
fn read_init_token(path: &std::path::Path) -> anyhow::Result<SecretBytes> {
    let token = if path.as_os_str() == "-" {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        SecretBytes::new(line.into_bytes())
    } else {
        SecretBytes::new(crate::files::read_private(path).context(
            "--init-token-file: read the server's <data-dir>/init-token (on the server's host)",
        )?)
    };
    if token.expose_secret().iter().all(u8::is_ascii_whitespace) {
        anyhow::bail!("the init token is empty: pass the server's <data-dir>/init-token");
    }
    Ok(token)
}

/// One share from standard input: prompted without echo at a terminal, else one line.
fn read_share() -> anyhow::Result<SecretBytes> {
    let line = match std::io::stdin().is_terminal() {
        true => rpassword::prompt_password("Unseal share: ")?,
        false => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line
        }
    };
    let share = SecretBytes::new(line.into_bytes());
    if share.expose_secret().iter().all(u8::is_ascii_whitespace) {
        anyhow::bail!("no share given: pass it as an argument or on standard input");
    }
    Ok(share)
}

fn unsigned_client(conn: &ConnectionArgs) -> Result<Client, ExitCode> {
    let connection_error = |e: String| {
        eprintln!("ERROR: {e}");
        ExitCode::from(output::EXIT_CONNECTION)
    };
    let (endpoint, ca_file) =
        profile::resolve_endpoint(conn).map_err(|e| connection_error(format!("{e:#}")))?;
    Client::unsigned(&endpoint, ca_file.as_deref()).map_err(|e| connection_error(e.to_string()))
}

/// `operator seal`: a request signed like any API call, sent to the seal path.
fn seal(conn: &ConnectionArgs) -> ExitCode {
    let client = match super::client_for(conn) {
        Ok(client) => client,
        Err(code) => return code,
    };
    let reply = super::block_on(async {
        let prepared = client.prepare(RawRequest::new("OperatorSeal"))?;
        client
            .send_to(&format!("{PREFIX}seal"), &prepared)
            .await?
            .into_result()
    });
    finish(reply)
}

fn finish(reply: Result<serde_json::Value, ClientError>) -> ExitCode {
    match reply {
        Ok(value) => output::success(&value),
        Err(e) => output::failure(&e),
    }
}
