//! What the bench needs from the operating system: enough open files for 18,000 client sockets,
//! the relay's resident memory and open-file limit from `/proc`, and one monotonic clock that
//! every client task in this process reads, so a send time written by one task can be
//! subtracted from a receive time read by another; and the runtimes client tasks run on.

use std::io;
use std::sync::OnceLock;
use std::time::Instant;

/// The instant every timestamp counts from; set once at start.
static CLOCK_BASE: OnceLock<Instant> = OnceLock::new();

/// Fixes the clock's base; call before any client starts.
pub fn start_clock() {
    CLOCK_BASE.get_or_init(Instant::now);
}

/// Nanoseconds since the shared base. A u64 of nanoseconds lasts 584 years.
pub fn now_ns() -> u64 {
    CLOCK_BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// This process's open-file limit after raising the soft limit to the hard one.
#[derive(Debug, Clone, Copy)]
pub struct FdLimit {
    pub soft: u64,
    pub hard: u64,
}

/// Raises RLIMIT_NOFILE's soft limit to its hard limit: every client socket is a file.
///
/// Errors are the OS's own from `getrlimit`/`setrlimit`.
pub fn raise_fd_limit() -> io::Result<FdLimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the struct we pass, which lives on our stack.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: setrlimit only reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(FdLimit {
        soft: limit.rlim_cur,
        hard: limit.rlim_max,
    })
}

/// Resident memory of process `pid` in KiB, from the `VmRSS` line of `/proc/<pid>/status`.
///
/// Errors: the process is gone, or the file has no readable `VmRSS` line.
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no VmRSS line"))
}

/// The soft and hard "Max open files" of process `pid`, from `/proc/<pid>/limits`; `None` when
/// unreadable (it is only reported).
pub fn fd_limit_of(pid: u32) -> Option<FdLimit> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut numbers = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .map(|n| n.parse::<u64>().unwrap_or(u64::MAX));
    Some(FdLimit {
        soft: numbers.next()?,
        hard: numbers.next()?,
    })
}

/// The 1-, 5- and 15-minute load averages from `/proc/loadavg`, as text; other engineers'
/// builds share this machine, and a benchmark is only as good as the quiet it ran in.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// SYNs the kernel dropped because a listening socket's accept queue was full
/// (`TcpExt: ListenDrops` in `/proc/net/netstat`, which also counts `ListenOverflows`), for the
/// whole machine. On loopback the relay's listener is the only one the bench connects to, so a
/// rise during a fill is the relay's backlog overflowing: each such connect waits a second for
/// its SYN to be sent again.
pub fn listen_drops() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let names = lines.next()?.split_whitespace();
    let values = lines.next()?.split_whitespace();
    names
        .zip(values)
        .find(|(name, _)| *name == "ListenDrops")
        .and_then(|(_, value)| value.parse().ok())
}

/// CPU time (user + system) process `pid` (or `None`: this process) has used, in seconds.
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces: state is
    // field 3 of the file, utime 14 and stime 15.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / clock_ticks()?)
}

/// CPU time the whole machine has spent busy (everything but idle and iowait), in seconds,
/// from the first line of `/proc/stat`.
pub fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<f64> = line
        .split_whitespace()
        .take(8)
        .map(|t| t.parse().unwrap_or(0.0))
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy: f64 = ticks
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, t)| t)
        .sum();
    Some(busy / clock_ticks()?)
}

/// Clock ticks per second, the unit of `/proc/*/stat`.
fn clock_ticks() -> Option<f64> {
    // SAFETY: sysconf reads a constant of the running system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then_some(ticks as f64)
}

/// CPU used by the relay and by the bench over a stretch of wall time.
#[derive(Debug, Clone, Copy)]
pub struct CpuMeter {
    wall: Instant,
    relay: Option<f64>,
    bench: Option<f64>,
    machine: Option<f64>,
    relay_pid: Option<u32>,
}

/// What a [`CpuMeter`] saw: seconds of CPU per second of wall time (1.0 = one core busy).
#[derive(Debug, Clone, Copy)]
pub struct CpuUse {
    pub wall_seconds: f64,
    pub relay_cores: Option<f64>,
    pub bench_cores: Option<f64>,
    /// Everything else on the machine: other engineers' builds and tests.
    pub other_cores: Option<f64>,
}

impl CpuMeter {
    /// Starts measuring now; the relay is measured only when its pid is known.
    pub fn start(relay_pid: Option<u32>) -> Self {
        CpuMeter {
            wall: Instant::now(),
            relay: relay_pid.and_then(|pid| cpu_seconds(Some(pid))),
            bench: cpu_seconds(None),
            machine: machine_busy_seconds(),
            relay_pid,
        }
    }

    /// CPU used since [`CpuMeter::start`].
    pub fn read(&self) -> CpuUse {
        let wall = self.wall.elapsed().as_secs_f64().max(1e-9);
        let relay_now = self.relay_pid.and_then(|pid| cpu_seconds(Some(pid)));
        let per_wall = |before: Option<f64>, now: Option<f64>| Some((now? - before?) / wall);
        let relay_cores = per_wall(self.relay, relay_now);
        let bench_cores = per_wall(self.bench, cpu_seconds(None));
        let machine_cores = per_wall(self.machine, machine_busy_seconds());
        CpuUse {
            wall_seconds: wall,
            relay_cores,
            bench_cores,
            other_cores: machine_cores
                .map(|m| (m - relay_cores.unwrap_or(0.0) - bench_cores.unwrap_or(0.0)).max(0.0)),
        }
    }
}

/// The runtimes client tasks run on: one single-threaded tokio runtime per thread, each owning
/// its sockets and timers, so a client's wake-ups never cross threads. Against a multi-threaded
/// runtime this cut the relay scenario's one-way p50 from 5–50 ms to 1.3–1.6 ms (the bench
/// shares the relay's two cores; cross-thread wake-ups cost both).
static CLIENT_RUNTIMES: OnceLock<ClientRuntimes> = OnceLock::new();

struct ClientRuntimes {
    handles: Vec<tokio::runtime::Handle>,
    next: std::sync::atomic::AtomicUsize,
}

/// Starts `threads` client runtimes (at least one). Call once, before any client starts.
///
/// Errors: a runtime or its thread could not be created.
pub fn start_client_runtimes(threads: usize) -> io::Result<()> {
    let mut handles = Vec::new();
    for i in 0..threads.max(1) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        handles.push(runtime.handle().clone());
        std::thread::Builder::new()
            .name(format!("clients-{i}"))
            .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
    }
    let _ = CLIENT_RUNTIMES.set(ClientRuntimes {
        handles,
        next: std::sync::atomic::AtomicUsize::new(0),
    });
    Ok(())
}

/// The client runtime for the next client, round-robin; the caller's runtime when none were
/// started.
pub fn next_client_runtime() -> tokio::runtime::Handle {
    match CLIENT_RUNTIMES.get() {
        Some(r) => {
            let n = r.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            r.handles[n % r.handles.len()].clone()
        }
        None => tokio::runtime::Handle::current(),
    }
}
