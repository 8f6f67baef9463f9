//! `familiar-bench`: a load generator for the familiar-sessions relay. It speaks the real
//! protocol (`shared/PROTOCOL.md`) over real WebSockets to a relay that is already running,
//! runs one scenario, prints a table and, as its last line, one JSON object with every figure.
//!
//! Map of the crate:
//! - [`cli`]: the flags; each scenario's defaults are the sizes named in issue 7.
//! - [`system`]: the open-file limit, the relay's resident memory, the clock all clients share,
//!   the client runtimes.
//! - [`conn`]: one client WebSocket, bound to one of several loopback source addresses.
//! - [`wire`]: the messages the bench sends and the fields it reads back.
//! - [`setup`]: filling the relay with hosts and guests, and moving them through phases.
//! - [`scenarios`]: capacity, join-latency, handshake, relay and chat.
//! - [`report`]: percentiles, the table and the JSON line.
//!
//! `bench/run.sh` starts a relay with its caps raised, runs one scenario and stops it.

mod cli;
mod conn;
mod report;
mod scenarios;
mod setup;
mod system;
mod wire;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    system::start_clock();
    let fd_limit = match system::raise_fd_limit() {
        Ok(limit) => limit,
        Err(err) => {
            eprintln!("familiar-bench: cannot read or raise the open-file limit: {err}");
            return ExitCode::FAILURE;
        }
    };
    let threads = match cli.common.client_threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    if let Err(err) = system::start_client_runtimes(threads) {
        eprintln!("familiar-bench: cannot start the client runtimes: {err}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("familiar-bench: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(scenarios::run(cli, fd_limit)) {
        Ok(report) => {
            report.print();
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("familiar-bench: {err}");
            ExitCode::FAILURE
        }
    }
}
