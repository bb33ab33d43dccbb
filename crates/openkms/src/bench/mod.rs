//! `openkms bench`: drive a server over its real interface and tell the truth about it.
//!
//! One run opens `--concurrency` keep-alive connections (HTTPS, or plain HTTP only with
//! `--insecure-http-ok`), then measures, over the very same connections, first the ceiling
//! (`GET /healthz`, the cheapest request the same server stack answers) and then the chosen
//! operation, each request signed afresh with signature V1 (new nonce, new timestamp). It
//! prints throughput and latency percentiles per operation, the ratio of the operation's
//! throughput to the ceiling (the figure to steer by), errors by code — loudly, with a
//! non-zero exit — and, when it knows the server's pid, its resident memory.
//!
//! This module owns the flags and the order of the steps. The steps live in submodules:
//! [`spawn`] (an optional server of our own), [`transport`] (connections), [`workload`]
//! (what each request is), [`signer`] (fresh V1 signatures, cheaply), [`load`] (the
//! workers), [`stats`] (percentiles) and [`report`] (what is printed). The endpoint, CA
//! file and credentials are the CLI's
//! (`--endpoint`, `--ca-file`, `ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET`, profiles).

mod load;
mod pairs;
mod probe;
mod report;
mod signer;
mod spawn;
mod stats;
mod transport;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use openkms_client::{AccessKeySecret, Client, ClientConfig};
use openkms_sign::V1SigningKey;

use crate::cli::profile::{self, ConnectionArgs};
use load::{Limit, Phase};
use probe::Probe;
use report::{Outcome, ServerFacts};
use spawn::Spawned;
use stats::PhaseStats;
use transport::{Conn, Dialer};
use workload::{Identity, OpArg, Workload};

/// Exit code of a run in which any request failed.
const EXIT_ERRORS: u8 = 1;
/// Exit code of a run that could not be carried out (bad flags, no server, setup failed).
const EXIT_SETUP: u8 = 2;
/// Length of a run when neither `--duration` nor `--requests` is given.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// `openkms bench` flags. The server is named by the global `--endpoint` and `--ca-file`
/// (or a profile), credentials by `ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET`, as for every
/// other command — unless `--spawn-server` starts one.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// The operation to drive; `mixed` is 45% Decrypt, 45% Encrypt, 10% GenerateDataKey;
    /// `sign-rsa2048`, `sign-p256` and `sign-sm2` are AsymmetricSign with a key pair of their own.
    #[arg(long, value_enum, default_value_t = OpArg::Encrypt)]
    pub op: OpArg,
    /// Keep-alive connections, each with one request in flight.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// How long each phase (ceiling, then the operation) runs, e.g. 10s, 500ms, 2m
    /// [default: 10s].
    #[arg(long, value_parser = parse_duration, conflicts_with = "requests")]
    pub duration: Option<Duration>,
    /// Requests per phase instead of a duration.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Plaintext length in bytes for Encrypt and Decrypt (32, 1024 and 6144 are the
    /// reference sizes; 1 to 6144 is accepted).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=6144))]
    pub plaintext_size: u16,
    /// The key to use; by default the bench creates one.
    #[arg(long, conflicts_with = "key_ids_file")]
    pub key_id: Option<String>,
    /// The ProtectionLevel of the keys the bench creates: SOFTWARE, or HSM (the server needs a
    /// PKCS#11 token; --spawn-server passes the OPENKMS_PKCS11_* environment on to it).
    #[arg(long, default_value = "SOFTWARE", value_parser = ["SOFTWARE", "HSM"])]
    pub protection_level: String,
    /// A file of KeyIds, one per line, used round-robin by Encrypt, GenerateDataKey and
    /// DescribeKey (Decrypt uses the first); see --save-key-ids.
    #[arg(long)]
    pub key_ids_file: Option<PathBuf>,
    /// With --op create-key: write the KeyIds created to this file, one per line.
    #[arg(long)]
    pub save_key_ids: Option<PathBuf>,
    /// Allow an http:// endpoint (and make --spawn-server serve plain HTTP).
    #[arg(long)]
    pub insecure_http_ok: bool,
    /// Start `openkms server` (this binary) on 127.0.0.1:0 for the run and stop it after;
    /// reports its start-up-to-ready time and memory.
    #[arg(long)]
    pub spawn_server: bool,
    /// With --spawn-server: use (and keep) this data directory instead of a temporary one.
    #[arg(long, requires = "spawn_server")]
    pub server_data_dir: Option<PathBuf>,
    /// The pid of a server started elsewhere, to report its memory and CPU time (/proc).
    #[arg(long, conflicts_with = "spawn_server")]
    pub server_pid: Option<u32>,
    /// Run only this phase (for profiling the server; the ratio needs both).
    #[arg(long, value_enum)]
    pub only: Option<Phase>,
    /// How long to run the operation before measuring (0s to skip; never for create-key).
    #[arg(long, value_parser = parse_duration, default_value = "2s")]
    pub warmup: Duration,
}

/// What to run, checked once.
#[derive(Debug)]
struct Plan {
    args: BenchArgs,
    limit: Limit,
}

/// Runs the bench and returns the exit code: 0 clean, 1 if any request failed, 2 if the run
/// could not be carried out.
pub fn run(args: BenchArgs, conn: &ConnectionArgs) -> ExitCode {
    let outcome = validate(args).and_then(|plan| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(execute(plan, conn))
    });
    match outcome {
        Ok(outcome) if outcome.had_errors() => ExitCode::from(EXIT_ERRORS),
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ERROR: {e:#}");
            ExitCode::from(EXIT_SETUP)
        }
    }
}

fn validate(args: BenchArgs) -> anyhow::Result<Plan> {
    anyhow::ensure!(
        (1..=20_000).contains(&args.concurrency),
        "--concurrency: give 1 to 20000 connections"
    );
    if args.save_key_ids.is_some() && args.op != OpArg::CreateKey {
        anyhow::bail!("--save-key-ids: only with --op create-key");
    }
    let limit = match (args.requests, args.duration) {
        (Some(0), _) => anyhow::bail!("--requests: give at least 1"),
        (Some(n), _) => Limit::Requests(n),
        (None, Some(d)) => Limit::Duration(d),
        (None, None) => Limit::Duration(DEFAULT_DURATION),
    };
    Ok(Plan { args, limit })
}

/// Where to connect and as whom.
struct Target {
    endpoint: String,
    ca_file: Option<PathBuf>,
    access_key_id: String,
    secret: AccessKeySecret,
    region_id: String,
}

async fn execute(plan: Plan, conn: &ConnectionArgs) -> anyhow::Result<Outcome> {
    let spawned = match plan.args.spawn_server {
        true => Some(Spawned::start(&plan.args)?),
        false => None,
    };
    let target = match &spawned {
        Some(s) => s.target(),
        None => resolve_target(conn)?,
    };
    let probe = Probe::new(spawned.as_ref().map(Spawned::pid).or(plan.args.server_pid));
    let result = measure(&plan, target, &probe).await;
    let facts = ServerFacts {
        ready_after: spawned.as_ref().map(Spawned::ready_after),
        memory: probe.samples(),
    };
    if let Some(s) = spawned {
        s.stop();
    }
    let outcome = result?;
    report::print(&outcome, &facts);
    Ok(outcome)
}

fn resolve_target(conn: &ConnectionArgs) -> anyhow::Result<Target> {
    let c = profile::resolve(conn)?;
    Ok(Target {
        endpoint: c.endpoint,
        ca_file: c.ca_file,
        access_key_id: c.access_key_id,
        secret: c.access_key_secret,
        region_id: c.region_id,
    })
}

/// Setup, connections, warm-up, the ceiling phase and the operation phase.
async fn measure(plan: &Plan, target: Target, probe: &Probe) -> anyhow::Result<Outcome> {
    let args = &plan.args;
    let endpoint = (&target.endpoint, target.ca_file.as_deref());
    let dialer = Arc::new(Dialer::new(endpoint.0, endpoint.1, args.insecure_http_ok)?);
    probe.sample("idle, before the bench connects");
    let workload = Arc::new(prepare(target, &dialer, args).await?);
    let conns = load::connect_all(&dialer, args.concurrency).await?;
    probe.sample(&format!("{} connections open, setup done", conns.len()));
    let conns = warm_up(conns, &dialer, &workload, args, probe).await;
    let phase = async |conns, phase, keep| {
        if args.only.is_some_and(|only| only != phase) {
            return (conns, PhaseStats::default());
        }
        let before = probe.cpu();
        let (conns, mut stats) =
            load::run_phase(conns, &dialer, &workload, phase, plan.limit, keep).await;
        stats.cpu = probe.cpu().since(before);
        (conns, stats)
    };
    let (conns, ceiling) = phase(conns, Phase::Ceiling, false).await;
    let (conns, operation) = phase(conns, Phase::Operation, args.save_key_ids.is_some()).await;
    let done = ceiling.requests() + operation.requests();
    probe.sample(&format!(
        "{} connections open, after the run ({done} more)",
        conns.len()
    ));
    drop(conns);
    if let Some(path) = &args.save_key_ids {
        workload::save_key_ids(path, &operation.key_ids)?;
    }
    let keys = workload.key_count();
    Ok(Outcome::new(args, &dialer, keys, ceiling, operation))
}

/// Runs the operation for `--warmup` (not for create-key), unmeasured.
async fn warm_up(
    conns: Vec<Conn>,
    dialer: &Arc<Dialer>,
    workload: &Arc<Workload>,
    args: &BenchArgs,
    probe: &Probe,
) -> Vec<Conn> {
    if args.warmup.is_zero() || args.op == OpArg::CreateKey {
        return conns;
    }
    let limit = Limit::Duration(args.warmup);
    let (conns, warmed) =
        load::run_phase(conns, dialer, workload, Phase::Operation, limit, false).await;
    let done = warmed.requests();
    let moment = format!(
        "{} connections open, after warm-up ({done} requests)",
        conns.len()
    );
    probe.sample(&moment);
    conns
}

/// Makes the fixture through ordinary client calls, then the workload that signs the
/// benchmark's requests with the same credentials.
async fn prepare(target: Target, dialer: &Dialer, args: &BenchArgs) -> anyhow::Result<Workload> {
    let key = V1SigningKey::new(target.secret.expose_secret().as_bytes());
    let (access_key_id, region_id) = (target.access_key_id.clone(), target.region_id.clone());
    let config = ClientConfig {
        endpoint: target.endpoint,
        ca_file: target.ca_file,
        access_key_id: target.access_key_id,
        access_key_secret: target.secret,
        region_id: target.region_id,
    };
    let client = Client::new(config).context("cannot set up the client")?;
    let fixture = workload::setup(&client, args).await?;
    let identity = Identity {
        access_key_id: &access_key_id,
        key,
        region_id: &region_id,
    };
    Workload::new(identity, dialer.host(), args, fixture)
}

/// Parses `250ms`, `10s`, `2m` (or a bare number of seconds).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 10s, 500ms or 2m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("{text:?}: the unit must be ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert!(parse_duration("10h").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("").is_err());
    }
}
