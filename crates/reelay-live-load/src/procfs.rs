//! CPU time and resident memory of a process from procfs (`proc_pid_stat(5)`,
//! `proc_pid_status(5)`), for the measured window of a benchmark.

use anyhow::{Context, Result};

/// Clock ticks per second of `utime` / `stime`: `USER_HZ`, 100 on every Linux architecture
/// that reelay targets (the kernel exports it as `CLK_TCK` in the auxiliary vector).
const USER_HZ: f64 = 100.0;

/// One reading of a process's counters.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// utime + stime, in ticks.
    ticks: u64,
    pub rss_kib: u64,
}

impl Sample {
    /// CPU seconds (user + system) between `earlier` and this sample.
    pub fn cpu_seconds_since(&self, earlier: &Sample) -> f64 {
        self.ticks.saturating_sub(earlier.ticks) as f64 / USER_HZ
    }
}

pub fn sample(pid: u32) -> Result<Sample> {
    read(&format!("/proc/{pid}"))
}

pub fn sample_self() -> Result<Sample> {
    read("/proc/self")
}

fn read(dir: &str) -> Result<Sample> {
    let stat =
        std::fs::read_to_string(format!("{dir}/stat")).with_context(|| format!("{dir}/stat"))?;
    let status = std::fs::read_to_string(format!("{dir}/status"))
        .with_context(|| format!("{dir}/status"))?;
    parse(&stat, &status).with_context(|| format!("parsing {dir}/stat"))
}

fn parse(stat: &str, status: &str) -> Option<Sample> {
    // The command name (field 2) may hold spaces and parentheses: fields are counted after
    // the last ')'. utime and stime are fields 14 and 15, i.e. the 12th and 13th after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Some(Sample {
        ticks: utime + stime,
        rss_kib,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_ticks_after_the_command_name() {
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 5 1 1";
        let s = parse(stat, "Name:\tx\nVmRSS:\t  1234 kB\n").expect("parses");
        assert_eq!((s.ticks, s.rss_kib), (300, 1234));
        let later = Sample {
            ticks: 450,
            rss_kib: 0,
        };
        assert_eq!(later.cpu_seconds_since(&s), 1.5);
        assert!(parse("garbage", "").is_none());
        assert!(sample_self().is_ok());
    }
}
