//! What the bench reads from `/proc`: a server's resident memory (`VmRSS`, and the peak
//! `VmHWM`, from `/proc/<pid>/status`) at named moments; the CPU time (user + system, all
//! threads, from `/proc/<pid>/stat`) of the server and of the bench itself, so each phase can
//! say how much CPU one request cost on each side; and the whole machine's CPU time
//! (`/proc/stat`), so a run can tell when other processes (or the hypervisor) took part of
//! the machine and its figures are not to be trusted.
//!
//! Linux only; elsewhere every reading is simply absent. Nothing here decides when to read.

use std::sync::Mutex;
use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on every Linux ABI).
const USER_HZ: u64 = 100;

/// Resident memory of a process at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemSample {
    /// `VmRSS`, KiB.
    pub rss_kib: u64,
    /// `VmHWM` (peak resident so far), KiB.
    pub peak_kib: u64,
}

/// Reads a server's memory at named moments, and its CPU time (nothing when the pid is
/// unknown).
pub struct Probe {
    pid: Option<u32>,
    samples: Mutex<Vec<(String, MemSample)>>,
}

impl Probe {
    /// A probe of `pid`.
    pub fn new(pid: Option<u32>) -> Self {
        Self {
            pid,
            samples: Mutex::new(Vec::new()),
        }
    }

    /// Records the memory now, under `moment`.
    pub fn sample(&self, moment: &str) {
        let Some(sample) = self.pid.and_then(read_status) else {
            return;
        };
        let mut samples = self
            .samples
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        samples.push((moment.to_owned(), sample));
    }

    /// CPU time of the server and of the bench so far.
    pub fn cpu(&self) -> CpuMark {
        CpuMark {
            server: self.pid.and_then(|p| cpu_time(Some(p))),
            bench: cpu_time(None),
            machine: machine_time(),
        }
    }

    /// Every sample taken, in order.
    pub fn samples(&self) -> Vec<(String, MemSample)> {
        self.samples
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

fn read_status(pid: u32) -> Option<MemSample> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(MemSample {
        rss_kib: status_field(&text, "VmRSS:")?,
        peak_kib: status_field(&text, "VmHWM:")?,
    })
}

/// The number of a `Name:   1234 kB` line.
fn status_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// CPU time used so far by the server, by the bench, and by the whole machine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuMark {
    /// The server's, when its pid is known.
    pub server: Option<Duration>,
    /// This process's.
    pub bench: Option<Duration>,
    /// The machine's, all CPUs together.
    pub machine: Option<MachineTime>,
}

/// Time of all CPUs together, from the first line of `/proc/stat`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MachineTime {
    /// Running anything: user, nice, system, irq, softirq.
    pub busy: Duration,
    /// Idle or waiting for I/O.
    pub idle: Duration,
    /// Taken by the hypervisor for other guests.
    pub steal: Duration,
}

impl MachineTime {
    /// Everything the CPUs could have done: busy, idle and stolen.
    pub fn capacity(&self) -> Duration {
        self.busy + self.idle + self.steal
    }
}

impl CpuMark {
    /// CPU used since `earlier`.
    pub fn since(self, earlier: CpuMark) -> CpuMark {
        let diff = |a: Option<Duration>, b: Option<Duration>| Some(a?.saturating_sub(b?));
        let machine = match (self.machine, earlier.machine) {
            (Some(a), Some(b)) => Some(MachineTime {
                busy: a.busy.saturating_sub(b.busy),
                idle: a.idle.saturating_sub(b.idle),
                steal: a.steal.saturating_sub(b.steal),
            }),
            _ => None,
        };
        CpuMark {
            server: diff(self.server, earlier.server),
            bench: diff(self.bench, earlier.bench),
            machine,
        }
    }
}

/// The machine's CPU time so far.
pub fn machine_time() -> Option<MachineTime> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    parse_machine(text.lines().next()?)
}

/// Parses `cpu  user nice system idle iowait irq softirq steal …`.
fn parse_machine(line: &str) -> Option<MachineTime> {
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let t: Vec<u64> = fields
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let ticks = |n: u64| Duration::from_millis(n * 1000 / USER_HZ);
    Some(MachineTime {
        busy: ticks(t.first()? + t.get(1)? + t.get(2)? + t.get(5)? + t.get(6)?),
        idle: ticks(t.get(3)? + t.get(4)?),
        steal: ticks(*t.get(7)?),
    })
}

/// CPU time used so far (user + system, every thread) by `pid`, or by this process.
pub fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces:
    // state is the first, utime the 12th and stime the 13th.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 1000 / USER_HZ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_fields() {
        let text = "Name:\topenkms\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(status_field(text, "VmRSS:"), Some(10240));
        assert_eq!(status_field(text, "VmHWM:"), Some(20480));
        assert_eq!(status_field(text, "VmSwap:"), None);
        let me = read_status(std::process::id()).unwrap();
        assert!(me.rss_kib > 0 && me.peak_kib >= me.rss_kib);
    }

    #[test]
    fn reads_machine_time() {
        let m = parse_machine("cpu  100 1 50 800 20 3 4 22 0 0").unwrap();
        assert_eq!(m.busy, Duration::from_millis(1580));
        assert_eq!(m.idle, Duration::from_millis(8200));
        assert_eq!(m.steal, Duration::from_millis(220));
        assert!(parse_machine("cpu0 1 2 3 4 5 6 7 8").is_none());
        assert!(machine_time().is_some_and(|m| m.capacity() > Duration::ZERO));
    }

    #[test]
    fn reads_cpu_time() {
        // Spins until the kernel has counted a tick of CPU time: on a loaded machine 30 ms of
        // wall time can pass with none (a CI run failed so), but 10 s cannot.
        let spin = std::time::Instant::now();
        while cpu_time(None).unwrap() == Duration::ZERO {
            assert!(
                spin.elapsed() < Duration::from_secs(10),
                "no CPU time counted"
            );
        }
        assert!(cpu_time(Some(std::process::id())).is_some());
        assert!(cpu_time(Some(u32::MAX)).is_none());
    }
}
