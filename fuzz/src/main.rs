//! `familiar-fuzz`: runs the fuzz targets and prints their figures.
//!
//!   familiar-fuzz [TARGET…] [--inputs N] [--seed S] [--verbose]
//!   familiar-fuzz --write-seeds DIR
//!
//! TARGETs: `frames`, `parser`, `session` (default: all three). `--inputs` per target (default
//! 1,000,000; for `session` an input is one message delivered). `--seed` picks the run (default
//! 1); the same seed makes the same inputs. `--verbose` lists every outcome kind with its count.
//! Exits 1 when any target found a panic or a broken invariant, and prints those inputs.
//! `--write-seeds` writes the seed corpus as AFL++ input files, one folder per target.

use std::process::ExitCode;

use familiar_fuzz::report::table;
use familiar_fuzz::seeds::corpus;
use familiar_fuzz::{run, TARGETS};

fn main() -> ExitCode {
    let mut targets: Vec<String> = Vec::new();
    let mut inputs: u64 = 1_000_000;
    let mut seed: u64 = 1;
    let mut verbose = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Option<u64> {
            let parsed = args.next().and_then(|v| v.replace('_', "").parse().ok());
            if parsed.is_none() {
                eprintln!("{name} needs a number");
            }
            parsed
        };
        match arg.as_str() {
            "--inputs" => match number("--inputs") {
                Some(n) => inputs = n,
                None => return ExitCode::from(2),
            },
            "--seed" => match number("--seed") {
                Some(n) => seed = n,
                None => return ExitCode::from(2),
            },
            "--verbose" | "-v" => verbose = true,
            "--write-seeds" => {
                let Some(dir) = args.next() else {
                    eprintln!("--write-seeds needs a folder");
                    return ExitCode::from(2);
                };
                return match familiar_fuzz::seeds::write_afl_seeds(std::path::Path::new(&dir)) {
                    Ok(n) => {
                        println!("{n} seed files in {dir}/{{frames,parser,session}}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("writing seeds to {dir}: {e}");
                        ExitCode::FAILURE
                    }
                };
            }
            "--help" | "-h" => {
                println!(
                    "familiar-fuzz [{}…] [--inputs N] [--seed S] [--verbose]",
                    TARGETS.join("|")
                );
                return ExitCode::SUCCESS;
            }
            name if TARGETS.contains(&name) => targets.push(name.to_string()),
            other => {
                eprintln!(
                    "unknown argument {other:?}; targets: {}",
                    TARGETS.join(", ")
                );
                return ExitCode::from(2);
            }
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| t.to_string()).collect();
    }
    let corpus = corpus();
    println!("seed corpus: {} frames", corpus.frames.len());
    for (source, n) in &corpus.sources {
        println!("  {n:>4}  {source}");
    }
    println!("seed {seed}, {inputs} inputs per target\n");
    let mut reports = Vec::new();
    for name in &targets {
        let Some(report) = run(name, inputs, seed) else {
            continue;
        };
        println!(
            "{name}: {} {} in {:.1} s, {} kinds, {} panics, {} failures",
            report.inputs,
            report.unit,
            report.elapsed.as_secs_f64(),
            report.kinds.len(),
            report.panics,
            report.failure_count
        );
        if verbose || !report.is_clean() {
            print!("{}", report.details());
        }
        reports.push(report);
    }
    println!("\n{}", table(&reports));
    if reports.iter().all(|r| r.is_clean()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
