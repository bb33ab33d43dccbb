//! What a bench run prints: the set-up line, one table row per operation and phase, the
//! ratio to the ceiling, the client's own cost, the server's memory, and — loudly, on stdout
//! and stderr — any error.
//!
//! Where the run matches a target of issue 6 (Encrypt or Decrypt of 32 bytes over 32
//! connections; CreateKey over 32 connections) the verdict is printed next to the figure.
//! Counting is [`super::stats`]'s job; nothing here measures.

use std::fmt::Write as _;
use std::time::Duration;

use super::BenchArgs;
use super::probe::{CpuMark, MemSample};
use super::stats::{PhaseStats, Summary};
use super::transport::Dialer;
use super::workload::{Op, OpArg};

/// Encrypt/Decrypt throughput target, as a fraction of the ceiling.
const TARGET_RATIO: f64 = 0.70;
/// Encrypt/Decrypt p99 target, microseconds.
const TARGET_P99_US: u32 = 2_000;
/// CreateKey target, keys per second.
const TARGET_CREATE_PER_SEC: f64 = 2_000.0;

/// Facts about the server gathered outside the phases.
#[derive(Debug, Default)]
pub struct ServerFacts {
    /// Spawn to ready line, when the bench started the server.
    pub ready_after: Option<Duration>,
    /// Memory samples, in order.
    pub memory: Vec<(String, MemSample)>,
}

/// The figures of one phase, ready to print.
#[derive(Debug)]
struct PhaseFigures {
    rows: Vec<(Op, Summary)>,
    errors: Vec<(Op, String, u64)>,
    elapsed: Duration,
    requests: u64,
    signing: Duration,
    cpu: CpuMark,
}

impl PhaseFigures {
    fn from(mut stats: PhaseStats) -> Self {
        let requests = stats.requests();
        let mut errors = Vec::new();
        let mut rows = Vec::new();
        for (op, s) in &mut stats.ops {
            errors.extend(s.errors.iter().map(|(c, n)| (*op, c.clone(), *n)));
            rows.push((*op, s.summarise()));
        }
        Self {
            rows,
            errors,
            elapsed: stats.elapsed,
            requests,
            signing: stats.signing,
            cpu: stats.cpu,
        }
    }

    /// Successful requests per second, all operations together.
    fn throughput(&self) -> f64 {
        let ok: u64 = self.rows.iter().map(|(_, s)| s.ok).sum();
        per_second(ok, self.elapsed)
    }

    fn failures(&self) -> u64 {
        self.errors.iter().map(|(_, _, n)| n).sum()
    }
}

/// The result of a run.
#[derive(Debug)]
pub struct Outcome {
    headline: String,
    op: OpArg,
    concurrency: usize,
    plaintext_size: u16,
    ceiling: PhaseFigures,
    operation: PhaseFigures,
}

impl Outcome {
    /// Builds the outcome of a run of `args`.
    pub fn new(
        args: &BenchArgs,
        dialer: &Dialer,
        key_count: usize,
        ceiling: PhaseStats,
        operation: PhaseStats,
    ) -> Self {
        let limit = match (args.requests, args.duration) {
            (Some(n), _) => format!("{n} requests per phase"),
            (None, Some(d)) => format!("{d:?} per phase"),
            (None, None) => format!("{:?} per phase", super::DEFAULT_DURATION),
        };
        let plaintext = match args.op {
            OpArg::Encrypt | OpArg::Decrypt | OpArg::Mixed => {
                format!(", {}-byte plaintext", args.plaintext_size)
            }
            _ => String::new(),
        };
        let level = match args.protection_level.as_str() {
            "HSM" if args.key_id.is_none() && args.key_ids_file.is_none() => " HSM",
            _ => "",
        };
        let headline = format!(
            "openkms bench: --op {:?}{plaintext}, {} connections over {}, {limit}, {key_count}{level} key(s)",
            args.op,
            args.concurrency,
            dialer.scheme(),
        );
        Self {
            headline,
            op: args.op,
            concurrency: args.concurrency,
            plaintext_size: args.plaintext_size,
            ceiling: PhaseFigures::from(ceiling),
            operation: PhaseFigures::from(operation),
        }
    }

    /// Whether any request of the run failed.
    pub fn had_errors(&self) -> bool {
        self.ceiling.failures() + self.operation.failures() > 0
    }

    /// The headline figure: operation throughput over ceiling throughput.
    fn ratio(&self) -> f64 {
        match self.ceiling.throughput() {
            c if c > 0.0 => self.operation.throughput() / c,
            _ => 0.0,
        }
    }
}

/// Prints the report to stdout, and the error banner to stderr too.
pub fn print(outcome: &Outcome, facts: &ServerFacts) {
    let mut out = String::new();
    let _ = writeln!(out, "{}", outcome.headline);
    if let Some(ready) = facts.ready_after {
        let _ = writeln!(
            out,
            "server: spawned by the bench, ready {} after spawn",
            ms(ready)
        );
    }
    out.push('\n');
    table(&mut out, outcome);
    out.push('\n');
    ratio_lines(&mut out, outcome);
    let contaminated = machine_lines(&mut out, outcome);
    memory_lines(&mut out, &facts.memory);
    if let Some(warning) = &contaminated {
        out.push('\n');
        out.push_str(warning);
        eprint!("openkms bench: {warning}");
    }
    let banner = error_block(outcome);
    #[allow(clippy::print_stdout)]
    {
        print!("{out}{banner}");
    }
    if !banner.is_empty() {
        let failed = outcome.ceiling.failures() + outcome.operation.failures();
        eprintln!("openkms bench: {failed} REQUESTS FAILED; the figures are not valid (see above)");
    }
}

fn table(out: &mut String, o: &Outcome) {
    let _ = writeln!(
        out,
        "{:<10} {:<16} {:>9} {:>7} {:>10} {:>8} {:>8} {:>8} {:>8}",
        "phase", "operation", "ok", "errors", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms"
    );
    for (name, phase) in [("ceiling", &o.ceiling), ("operation", &o.operation)] {
        for (op, s) in &phase.rows {
            row(out, name, op.label(), s, phase.elapsed);
        }
    }
}

/// One table row; latencies are of successful requests only ("-" when there were none).
fn row(out: &mut String, phase: &str, op: &str, s: &Summary, elapsed: Duration) {
    let ms = |us: u32| match s.ok {
        0 => "-".to_owned(),
        _ => format!("{:.3}", f64::from(us) / 1000.0),
    };
    let _ = writeln!(
        out,
        "{phase:<10} {op:<16} {:>9} {:>7} {:>10.0} {:>8} {:>8} {:>8} {:>8}",
        s.ok,
        s.failed,
        per_second(s.ok, elapsed),
        ms(s.p50_us),
        ms(s.p99_us),
        ms(s.p999_us),
        ms(s.max_us),
    );
}

fn ratio_lines(out: &mut String, o: &Outcome) {
    if o.ceiling.requests == 0 || o.operation.requests == 0 {
        let _ = writeln!(out, "RATIO operation/ceiling: n/a (only one phase ran)");
        cpu_lines(out, o);
        return;
    }
    let _ = writeln!(
        out,
        "RATIO operation/ceiling: {:.3}   ({:.0} / {:.0} req/s)",
        o.ratio(),
        o.operation.throughput(),
        o.ceiling.throughput()
    );
    for verdict in verdicts(o) {
        let _ = writeln!(out, "  {verdict}");
    }
    cpu_lines(out, o);
    let signing = o.operation.signing.as_secs_f64() * 1e6 / o.operation.requests.max(1) as f64;
    let _ = writeln!(
        out,
        "client: {signing:.1} µs per request to build and sign (not in the latencies; the ceiling requests are unsigned)"
    );
}

/// CPU per request on each side, where it was measured: it says whose cost the ratio is.
fn cpu_lines(out: &mut String, o: &Outcome) {
    let per_request = |cpu: Option<Duration>, p: &PhaseFigures| match p.requests {
        0 => None,
        n => cpu.map(|c| c.as_secs_f64() * 1e6 / n as f64),
    };
    let show = |v: Option<f64>| v.map_or("-".to_owned(), |us| format!("{us:.1} µs"));
    let sides = [
        ("server", o.ceiling.cpu.server, o.operation.cpu.server),
        ("bench", o.ceiling.cpu.bench, o.operation.cpu.bench),
    ];
    for (side, ceiling, operation) in sides {
        let (c, op) = (
            per_request(ceiling, &o.ceiling),
            per_request(operation, &o.operation),
        );
        if c.is_none() && op.is_none() {
            continue;
        }
        let factor = match (c, op) {
            (Some(c), Some(op)) if c > 0.0 => format!(" (x{:.2})", op / c),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "CPU per request, {side:<6}: ceiling {:>9}, operation {:>9}{factor}",
            show(c),
            show(op)
        );
    }
}

/// Share of the machine other processes may take before a run is called contaminated.
const OTHERS_LIMIT: f64 = 0.10;

/// Who used the machine during each phase, and a warning when it was not ours alone.
fn machine_lines(out: &mut String, o: &Outcome) -> Option<String> {
    let mut warnings = Vec::new();
    for (name, p) in [("ceiling", &o.ceiling), ("operation", &o.operation)] {
        let Some(m) = p.cpu.machine.filter(|m| !m.capacity().is_zero()) else {
            continue;
        };
        let share = |d: Duration| d.as_secs_f64() / m.capacity().as_secs_f64();
        let ours = p.cpu.server.unwrap_or_default() + p.cpu.bench.unwrap_or_default();
        let others = share(m.busy.saturating_sub(ours));
        let _ = writeln!(
            out,
            "machine during {name:<9}: busy {:>5.1}% (server {:.1}%, bench {:.1}%, other {:.1}%), idle {:.1}%, stolen {:.1}%",
            share(m.busy) * 100.0,
            share(p.cpu.server.unwrap_or_default()) * 100.0,
            share(p.cpu.bench.unwrap_or_default()) * 100.0,
            others * 100.0,
            share(m.idle) * 100.0,
            share(m.steal) * 100.0,
        );
        if others + share(m.steal) > OTHERS_LIMIT {
            warnings.push(contamination(name, others + share(m.steal)));
        }
    }
    (!warnings.is_empty()).then(|| warnings.join(""))
}

fn contamination(phase: &str, taken: f64) -> String {
    format!(
        "WARNING: other processes or the hypervisor took {:.0}% of the machine during the {phase} phase: \
         these figures are contaminated; rerun when the machine is quiet.\n",
        taken * 100.0
    )
}

/// Verdicts against the targets of issue 6, where the run matches a target's conditions.
fn verdicts(o: &Outcome) -> Vec<String> {
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    let mut lines = Vec::new();
    let crypto = matches!(o.op, OpArg::Encrypt | OpArg::Decrypt);
    if crypto && o.concurrency == 32 && o.plaintext_size == 32 {
        let ratio = o.ratio();
        lines.push(format!(
            "target ratio >= {TARGET_RATIO:.2}: {} ({ratio:.3})",
            verdict(ratio >= TARGET_RATIO)
        ));
        if let Some((_, s)) = o.operation.rows.first() {
            lines.push(format!(
                "target p99 < {} ms: {} ({:.3} ms)",
                TARGET_P99_US / 1000,
                verdict(s.p99_us < TARGET_P99_US),
                f64::from(s.p99_us) / 1000.0
            ));
        }
    }
    if o.op == OpArg::CreateKey && o.concurrency == 32 {
        let rate = o.operation.throughput();
        lines.push(format!(
            "target >= {TARGET_CREATE_PER_SEC:.0} durable keys/s: {} ({rate:.0}/s)",
            verdict(rate >= TARGET_CREATE_PER_SEC)
        ));
    }
    lines
}

fn memory_lines(out: &mut String, samples: &[(String, MemSample)]) {
    if samples.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nserver memory          VmRSS     VmHWM (peak so far)"
    );
    for (moment, m) in samples {
        let _ = writeln!(
            out,
            "  {:>9} {:>9}   {moment}",
            mib(m.rss_kib),
            mib(m.peak_kib)
        );
    }
}

/// The loud part: empty when nothing failed.
fn error_block(o: &Outcome) -> String {
    let failed = o.ceiling.failures() + o.operation.failures();
    if failed == 0 {
        return String::new();
    }
    let total = o.ceiling.requests + o.operation.requests;
    let line = "!".repeat(78);
    let mut out = format!(
        "\n{line}\n!!! {failed} OF {total} REQUESTS FAILED: THESE FIGURES ARE NOT A VALID BENCHMARK\n{line}\n"
    );
    for (phase, figures) in [("ceiling", &o.ceiling), ("operation", &o.operation)] {
        for (op, code, n) in &figures.errors {
            let _ = writeln!(out, "  {phase:<10} {:<16} {code:<40} {n:>9}", op.label());
        }
    }
    if o.operation
        .errors
        .iter()
        .any(|(op, code, _)| *op == Op::DescribeKey && code.starts_with("InvalidAction"))
    {
        let _ = writeln!(
            out,
            "  note: this server does not serve DescribeKey yet; it answered InvalidAction, so the\n  \
             figures above measure the error path, not DescribeKey."
        );
    }
    out
}

fn per_second(n: u64, elapsed: Duration) -> f64 {
    match elapsed.as_secs_f64() {
        s if s > 0.0 => n as f64 / s,
        _ => 0.0,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::stats::PhaseStats;

    fn phase(op: Op, ok: u64, failed: u64) -> PhaseStats {
        let mut p = PhaseStats::default();
        for _ in 0..ok {
            p.op(op).ok(Duration::from_micros(500));
        }
        for _ in 0..failed {
            p.op(op).failed("InvalidAction.NotFound");
        }
        p.elapsed = Duration::from_secs(1);
        p
    }

    fn outcome(op: Op, ok: u64, failed: u64) -> Outcome {
        Outcome {
            headline: String::new(),
            op: OpArg::Encrypt,
            concurrency: 32,
            plaintext_size: 32,
            ceiling: PhaseFigures::from(phase(Op::Health, 1000, 0)),
            operation: PhaseFigures::from(phase(op, ok, failed)),
        }
    }

    #[test]
    fn ratio_and_verdicts() {
        let o = outcome(Op::Encrypt, 750, 0);
        assert!((o.ratio() - 0.75).abs() < 1e-9);
        assert!(!o.had_errors());
        assert!(error_block(&o).is_empty());
        let v = verdicts(&o);
        assert!(v[0].contains("met") && v[1].contains("met"), "{v:?}");
        assert!(verdicts(&outcome(Op::Encrypt, 500, 0))[0].contains("MISSED"));
    }

    #[test]
    fn other_processes_are_called_out() {
        use crate::bench::probe::MachineTime;
        let mut o = outcome(Op::Encrypt, 750, 0);
        let machine = |busy, idle| MachineTime {
            busy: Duration::from_millis(busy),
            idle: Duration::from_millis(idle),
            steal: Duration::ZERO,
        };
        o.ceiling.cpu = CpuMark {
            server: Some(Duration::from_millis(900)),
            bench: Some(Duration::from_millis(900)),
            machine: Some(machine(1900, 100)),
        };
        let mut out = String::new();
        assert!(machine_lines(&mut out, &o).is_none(), "{out}");
        o.operation.cpu = CpuMark {
            server: Some(Duration::from_millis(600)),
            bench: Some(Duration::from_millis(600)),
            machine: Some(machine(1900, 100)),
        };
        let warning = machine_lines(&mut out, &o).unwrap_or_default();
        assert!(
            warning.contains("35% of the machine during the operation"),
            "{warning}"
        );
        assert!(out.contains("other 35.0%"), "{out}");
    }

    #[test]
    fn errors_are_loud() {
        let o = outcome(Op::DescribeKey, 0, 40);
        assert!(o.had_errors());
        let block = error_block(&o);
        assert!(block.contains("40 OF 1040 REQUESTS FAILED"), "{block}");
        assert!(block.contains("InvalidAction.NotFound"));
        assert!(block.contains("does not serve DescribeKey"));
    }
}
