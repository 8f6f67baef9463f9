//! What a run prints: a table a person reads, then one line of JSON with every figure for a
//! script. Each figure that issue 7 sets a target for carries the target and whether it was
//! met; the targets live here, in the benchmark, and never in tests.

use serde_json::{json, Map, Value};

/// Percentiles of a set of latency samples, in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Latency {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    /// Summarizes samples given in nanoseconds (nearest-rank percentiles).
    pub fn of(mut samples_ns: Vec<u64>) -> Self {
        if samples_ns.is_empty() {
            return Latency::default();
        }
        samples_ns.sort_unstable();
        let rank = |q: f64| {
            let i = (q * samples_ns.len() as f64).ceil() as usize;
            samples_ns[i.clamp(1, samples_ns.len()) - 1] as f64 / 1e6
        };
        Latency {
            count: samples_ns.len(),
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            max: samples_ns[samples_ns.len() - 1] as f64 / 1e6,
        }
    }

    /// As JSON: `{count, p50_ms, p90_ms, p99_ms, max_ms}`.
    pub fn json(&self) -> Value {
        json!({
            "count": self.count,
            "p50_ms": round3(self.p50),
            "p90_ms": round3(self.p90),
            "p99_ms": round3(self.p99),
            "max_ms": round3(self.max),
        })
    }
}

/// Rounds to three decimals, for readable JSON.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// One line of the table.
struct Row {
    label: String,
    value: String,
    target: Option<(String, bool)>,
}

/// A scenario's results.
pub struct Report {
    title: String,
    rows: Vec<Row>,
    json: Map<String, Value>,
    targets: Map<String, Value>,
}

impl Report {
    /// A report for `scenario`, headed by `title` (what was run, in a few words).
    pub fn new(scenario: &str, title: String) -> Self {
        let mut json = Map::new();
        json.insert("scenario".into(), scenario.into());
        Report {
            title,
            rows: Vec::new(),
            json,
            targets: Map::new(),
        }
    }

    /// A figure: `key` and `value` go into the JSON, `label` and `shown` into the table (a
    /// blank `label` keeps it out of the table).
    pub fn fact(&mut self, key: &str, value: impl Into<Value>, label: &str, shown: String) {
        self.json.insert(key.into(), value.into());
        if !label.is_empty() {
            self.rows.push(Row {
                label: label.into(),
                value: shown,
                target: None,
            });
        }
    }

    /// A figure with a target: `met` says whether it reached `target`.
    pub fn target(
        &mut self,
        key: &str,
        value: impl Into<Value>,
        label: &str,
        shown: String,
        target: &str,
        met: bool,
    ) {
        self.json.insert(key.into(), value.into());
        self.targets
            .insert(key.into(), json!({ "target": target, "met": met }));
        self.rows.push(Row {
            label: label.into(),
            value: shown,
            target: Some((target.into(), met)),
        });
    }

    /// A latency summary: JSON under `key`, and p50/p90/p99/max rows.
    pub fn latency(&mut self, key: &str, label: &str, latency: &Latency) {
        self.json.insert(key.into(), latency.json());
        self.rows.push(Row {
            label: format!("{label} p50 / p90"),
            value: format!("{:.3} / {:.3} ms", latency.p50, latency.p90),
            target: None,
        });
        self.rows.push(Row {
            label: format!("{label} max"),
            value: format!("{:.3} ms ({} samples)", latency.max, latency.count),
            target: None,
        });
    }

    /// Prints the table, then the JSON line (always last).
    pub fn print(mut self) {
        let all_met = self
            .targets
            .values()
            .all(|t| t.get("met").and_then(Value::as_bool).unwrap_or(false));
        println!("== {} ==", self.title);
        let width = self.rows.iter().map(|r| r.label.len()).max().unwrap_or(0);
        let value_width = self.rows.iter().map(|r| r.value.len()).max().unwrap_or(0);
        for row in &self.rows {
            match &row.target {
                None => println!("  {:width$}  {}", row.label, row.value),
                Some((target, met)) => println!(
                    "  {:width$}  {:value_width$}  target {target}: {}",
                    row.label,
                    row.value,
                    if *met { "met" } else { "MISSED" }
                ),
            }
        }
        let targets = std::mem::take(&mut self.targets);
        if !targets.is_empty() {
            println!(
                "  {:width$}  {}",
                "all targets",
                if all_met { "met" } else { "MISSED" }
            );
            self.json.insert("targets".into(), Value::Object(targets));
            self.json.insert("all_targets_met".into(), all_met.into());
        }
        println!("{}", Value::Object(self.json));
    }
}

/// `1234567` → `"1,234,567"`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count map as `a ×3, b ×1`, or `none`.
pub fn counts(map: &std::collections::BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter()
        .map(|(label, n)| format!("{label} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let lat = Latency::of((1..=100).map(|ms| ms * 1_000_000).collect());
        assert_eq!(lat.p50, 50.0);
        assert_eq!(lat.p99, 99.0);
        assert_eq!(lat.max, 100.0);
        assert_eq!(Latency::of(vec![7_000_000]).p99, 7.0);
        assert_eq!(Latency::of(Vec::new()).count, 0);
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
