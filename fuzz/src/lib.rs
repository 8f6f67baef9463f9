//! Seeded, structure-aware fuzzing of the relay's three input surfaces, on stable Rust alone.
//! Every input is made from a seed and its number ([`rng::Rng::for_input`]), so a failure
//! replays exactly; the seed corpus is read from the project's own recordings ([`seeds`]).
//!
//! - [`frames`]: the WebSocket frame decoder as a connection configures it (guard, size limit,
//!   continuation aggregation) against a reference decoder written from RFC 6455.
//! - [`parser`]: `parse_client_message` against serde_json's plain reading of the same text.
//! - [`session`]: the real registry and session actors under random traffic from several
//!   connections; nothing may be left behind once everyone is gone.
//! - [`mutate`]: byte, text and JSON-aware mutations; [`rng`]: the seeded generator;
//!   [`report`]: figures, the panic counter and the table the command prints.
//!
//! `familiar-fuzz` (src/main.rs) runs them; `bench/run.sh fuzz` runs a million inputs per
//! target, the tests a short run of each. The optional AFL++ targets are in `afl/`.

pub mod frames;
pub mod mutate;
pub mod parser;
pub mod report;
pub mod rng;
pub mod seeds;
pub mod session;

pub use report::Report;

/// The targets by name, as the command takes them.
pub const TARGETS: &[&str] = &["frames", "parser", "session"];

/// Runs target `name` for `inputs` inputs from `seed`.
pub fn run(name: &str, inputs: u64, seed: u64) -> Option<Report> {
    let cpu = report::cpu_time();
    let mut report = match name {
        "frames" => frames::run(inputs, seed),
        "parser" => parser::run(inputs, seed),
        "session" => session::run(inputs, seed),
        _ => return None,
    };
    report.cpu = report::cpu_time().saturating_sub(cpu);
    Some(report)
}
