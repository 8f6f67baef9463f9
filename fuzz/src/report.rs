//! What a run of one target found: inputs tried, how fast, the distinct outcome kinds seen
//! (each error a kind of its own), panics and invariant failures, and the table the command
//! prints. Also the panic counter: a panic anywhere (an actor's thread included) is a failure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

/// Failures kept in full per target; past this only the count grows.
const KEPT_FAILURES: usize = 8;

/// The figures of one target's run.
#[derive(Debug, Clone)]
pub struct Report {
    pub target: &'static str,
    /// What one input is for this target.
    pub unit: &'static str,
    pub inputs: u64,
    pub elapsed: Duration,
    /// CPU time the process used meanwhile (all its threads): on a shared machine the rate per
    /// CPU second says more than the rate per second.
    pub cpu: Duration,
    /// Outcome kind → how often it was seen.
    pub kinds: BTreeMap<String, u64>,
    pub panics: u64,
    /// Invariant violations (panics included), each with the input that caused it.
    pub failures: Vec<String>,
    pub failure_count: u64,
}

impl Report {
    pub fn new(target: &'static str, unit: &'static str) -> Self {
        Report {
            target,
            unit,
            inputs: 0,
            elapsed: Duration::ZERO,
            cpu: Duration::ZERO,
            kinds: BTreeMap::new(),
            panics: 0,
            failures: Vec::new(),
            failure_count: 0,
        }
    }

    /// Counts one outcome of kind `kind`.
    pub fn saw(&mut self, kind: impl Into<String>) {
        *self.kinds.entry(kind.into()).or_default() += 1;
    }

    /// Records an invariant violation.
    pub fn fail(&mut self, what: impl Into<String>) {
        self.failure_count += 1;
        if self.failures.len() < KEPT_FAILURES {
            self.failures.push(what.into());
        }
    }

    pub fn is_clean(&self) -> bool {
        self.failure_count == 0 && self.panics == 0
    }

    pub fn rate(&self) -> f64 {
        self.inputs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The kinds seen whose name starts with `prefix` (e.g. `err:`), for the table.
    pub fn kinds_with(&self, prefix: &str) -> usize {
        self.kinds.keys().filter(|k| k.starts_with(prefix)).count()
    }

    /// The kinds and their counts, one per line, for `--verbose` and failing tests.
    pub fn details(&self) -> String {
        let mut out = String::new();
        for (kind, n) in &self.kinds {
            let _ = writeln!(out, "  {:<44} {n}", kind);
        }
        for f in &self.failures {
            let _ = writeln!(out, "  FAILURE {f}");
        }
        out
    }
}

/// The table for a set of reports.
pub fn table(reports: &[Report]) -> String {
    let mut out = format!(
        "{:<8} {:<18} {:>9} {:>7} {:>6} {:>9} {:>9} {:>5} {:>6} {:>6} {:>8}\n",
        "target",
        "input",
        "inputs",
        "seconds",
        "cpu s",
        "inputs/s",
        "per cpu s",
        "kinds",
        "errors",
        "panics",
        "failures"
    );
    for r in reports {
        let _ = writeln!(
            out,
            "{:<8} {:<18} {:>9} {:>7.1} {:>6.1} {:>9.0} {:>9.0} {:>5} {:>6} {:>6} {:>8}",
            r.target,
            r.unit,
            r.inputs,
            r.elapsed.as_secs_f64(),
            r.cpu.as_secs_f64(),
            r.rate(),
            r.inputs as f64 / r.cpu.as_secs_f64().max(1e-9),
            r.kinds.len(),
            r.kinds_with("err:") + r.kinds_with("close:"),
            r.panics,
            r.failure_count
        );
    }
    out
}

/// The CPU time (user and system, every thread) this process has used, from `/proc/self/stat`
/// (in clock ticks of 10 ms, Linux's `USER_HZ`); zero where that file does not exist.
pub fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

static PANICS: AtomicU64 = AtomicU64::new(0);
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);
static HOOK: Once = Once::new();

thread_local! {
    /// Set while a guarded input runs: its panic is reported as a failure, not printed.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Counts every panic in the process from now on. A panic outside [`guard`] (an actor's
/// arbiter, a test's own assertion) still prints as usual.
pub fn count_panics() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut last) = LAST_PANIC.lock() {
                *last = Some(info.to_string());
            }
            if !QUIET.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
}

/// Panics counted so far.
pub fn panics_so_far() -> u64 {
    PANICS.load(Ordering::SeqCst)
}

/// The last panic's message.
pub fn last_panic() -> String {
    LAST_PANIC
        .lock()
        .ok()
        .and_then(|l| l.clone())
        .unwrap_or_default()
}

/// Runs one input; a panic becomes `Err(message)`.
pub fn guard<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    count_panics();
    QUIET.with(|q| q.set(true));
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    outcome.map_err(|_| last_panic())
}

/// An input as text that shows every byte: printable ASCII as is, the rest escaped.
pub fn show(bytes: &[u8]) -> String {
    const SHOWN: usize = 600;
    let mut out = String::new();
    for b in bytes.iter().take(SHOWN) {
        match b {
            b' '..=b'~' if *b != b'\\' => out.push(*b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    if bytes.len() > SHOWN {
        let _ = write!(out, "… ({} bytes)", bytes.len());
    }
    out
}
