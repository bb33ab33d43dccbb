//! What the bench reads about processes from `/proc`: a server's resident memory
//! (`VmRSS`, and the peak `VmHWM`, from `/proc/<pid>/status`) at named moments, and the CPU
//! time (user + system, all threads, from `/proc/<pid>/stat`) of the server and of the bench
//! itself, so each phase can say how much CPU one request cost on each side.
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

/// CPU time used so far by the server and by the bench.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuMark {
    /// The server's, when its pid is known.
    pub server: Option<Duration>,
    /// This process's.
    pub bench: Option<Duration>,
}

impl CpuMark {
    /// CPU used since `earlier`.
    pub fn since(self, earlier: CpuMark) -> CpuMark {
        let diff = |a: Option<Duration>, b: Option<Duration>| Some(a?.saturating_sub(b?));
        CpuMark {
            server: diff(self.server, earlier.server),
            bench: diff(self.bench, earlier.bench),
        }
    }
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
    fn reads_cpu_time() {
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {}
        assert!(cpu_time(None).unwrap() > Duration::ZERO);
        assert!(cpu_time(Some(std::process::id())).is_some());
        assert!(cpu_time(Some(u32::MAX)).is_none());
    }
}
