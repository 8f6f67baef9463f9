//! `handshake`: per guest, the signaling a browser pair does to start audio. The guest sends
//! `webrtc_request`; the host gets `webrtc_create_offer {target_user_id}` and sends
//! `webrtc_offer` with an SDP of a few KB; the guest gets it and sends `webrtc_answer`, then its
//! ICE candidates; the host gets the answer and sends its candidates to the guest. A handshake
//! is done when both sides have every candidate; its time runs from the request to the later
//! of the two.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{check_fd_room, fill_facts, tally_facts, Env};
use crate::cli::HandshakeArgs;
use crate::conn::{Conn, Failure};
use crate::report::{counts, thousands, Latency, Report};
use crate::setup::{self, open_guest, open_host, reached, Ctx, Member, Phase, Tally, TallySum};
use crate::system::now_ns;
use crate::wire::{self, fake_sdp, Outbound, Sdp};

/// What the clients of a handshake run share.
struct Shared {
    offer_sdp: String,
    answer_sdp: String,
    /// Candidates each way per handshake.
    candidates: usize,
    /// Progress to the controller; sized so a send never waits.
    marks: mpsc::Sender<Mark>,
}

/// A point in one guest's handshake.
#[derive(Debug)]
struct Mark {
    guest: String,
    stage: Stage,
    /// [`now_ns`] when it happened.
    at: u64,
}

#[derive(Debug)]
enum Stage {
    /// The guest is about to send `webrtc_request`.
    Requested,
    /// The guest has all the host's candidates.
    GuestDone,
    /// The host has all the guest's candidates.
    HostDone,
    /// The guest gave up (its label).
    Failed(String),
}

/// One guest's handshake as the controller assembles it.
#[derive(Debug, Default)]
struct Progress {
    requested: Option<u64>,
    guest_done: Option<u64>,
    host_done: Option<u64>,
    counted: bool,
}

/// Runs `handshake`.
pub async fn run(env: &Env, args: &HandshakeArgs) -> Result<Report, String> {
    let plan = vec![args.guests; args.sessions];
    let sockets = args.sessions * (args.guests + 1);
    check_fd_room(env, sockets);
    let (marks_tx, mut marks) = mpsc::channel(4 * sockets + 16);
    let shared = Arc::new(Shared {
        offer_sdp: fake_sdp("offer", args.sdp_bytes),
        answer_sdp: fake_sdp("answer", args.sdp_bytes),
        candidates: args.candidates,
        marks: marks_tx,
    });
    let for_hosts = Arc::clone(&shared);
    let for_guests = Arc::clone(&shared);
    let (fleet, fill) = setup::fill(
        Arc::clone(&env.target),
        args.in_flight,
        0.0,
        &plan,
        move |ctx, session, guests| host(ctx, Arc::clone(&for_hosts), session, guests),
        move |ctx, session, index, code| guest(ctx, Arc::clone(&for_guests), session, index, code),
    )
    .await;
    drop(shared);

    let run_start = now_ns();
    fleet.set_phase(Phase::Run);
    let mut progress: HashMap<String, Progress> = HashMap::with_capacity(fill.guests_joined);
    let mut times = Vec::with_capacity(fill.guests_joined);
    let mut failed = std::collections::BTreeMap::<String, u64>::new();
    let mut last_done = run_start;
    let patience = env.target.timeout + Duration::from_secs(1);
    let mut failures = 0;
    while times.len() + failures < fill.guests_joined {
        let Ok(Some(mark)) = tokio::time::timeout(patience, marks.recv()).await else {
            break;
        };
        let entry = progress.entry(mark.guest).or_default();
        match mark.stage {
            Stage::Requested => entry.requested = Some(mark.at),
            Stage::GuestDone => entry.guest_done = Some(mark.at),
            Stage::HostDone => entry.host_done = Some(mark.at),
            Stage::Failed(label) => {
                failures += 1;
                *failed.entry(label).or_default() += 1;
                continue;
            }
        }
        let stages = (entry.requested, entry.guest_done, entry.host_done);
        if let (false, (Some(start), Some(g), Some(h))) = (entry.counted, stages) {
            entry.counted = true;
            let end = g.max(h);
            last_done = last_done.max(end);
            times.push(end.saturating_sub(start));
        }
    }
    let (hosts, guests) = fleet.stop().await;

    let title = format!(
        "handshake: {} sessions × {} guests, {} B SDP, {} candidates each way, {} in flight",
        args.sessions, args.guests, args.sdp_bytes, args.candidates, args.in_flight
    );
    let mut report = Report::new("handshake", title);
    fill_facts(&mut report, &fill, &plan);
    let completed = times.len();
    report.fact(
        "handshakes_completed",
        completed,
        "handshakes completed",
        format!(
            "{} of {}",
            thousands(completed as u64),
            thousands(fill.guests_joined as u64)
        ),
    );
    report.fact(
        "handshake_failures",
        serde_json::to_value(&failed).unwrap_or_default(),
        "handshake failures",
        counts(&failed),
    );
    let seconds = last_done.saturating_sub(run_start) as f64 / 1e9;
    report.fact(
        "handshakes_per_second",
        crate::report::round3(completed as f64 / seconds.max(1e-9)),
        "handshakes per second",
        format!("{:.0}", completed as f64 / seconds.max(1e-9)),
    );
    let latency = Latency::of(times);
    report.fact(
        "handshake_p50_ms",
        crate::report::round3(latency.p50),
        "",
        String::new(),
    );
    report.fact(
        "handshake_p99_ms",
        crate::report::round3(latency.p99),
        "handshake time p99",
        format!("{:.3} ms", latency.p99),
    );
    report.latency("handshake_latency", "handshake time", &latency);
    let mut sum = TallySum::default();
    for tally in hosts.iter().chain(&guests) {
        sum.add(tally);
    }
    tally_facts(&mut report, &sum);
    Ok(report)
}

/// A host: answers every `webrtc_create_offer` with an offer, every answer with its
/// candidates, and counts each guest's candidates.
async fn host(ctx: Arc<Ctx>, shared: Arc<Shared>, session: usize, guests: usize) -> Tally {
    let Some(mut member) = open_host(&ctx, session).await else {
        return Tally::default();
    };
    let outcome = match member.gather_guests(guests).await {
        Ok(_) => serve(&mut member, &shared).await,
        Err(failure) => Err(failure),
    };
    member.finish(outcome).await
}

async fn serve(member: &mut Member, shared: &Shared) -> Result<(), Failure> {
    let mut candidates_from: HashMap<String, usize> = HashMap::new();
    let stop = reached(&mut member.phase, Phase::Stop);
    tokio::pin!(stop);
    loop {
        let frame = tokio::select! {
            biased;
            () = &mut stop => return Ok(()),
            frame = member.conn.recv() => frame?,
        };
        let at = now_ns();
        let Some(msg) = member.tally.note(&frame) else {
            continue;
        };
        match msg.kind.as_ref() {
            "webrtc_create_offer" => {
                let Some(target) = msg.target_user_id else {
                    continue;
                };
                let offer = Outbound::WebrtcOffer {
                    target_user_id: &target,
                    sdp: Sdp {
                        kind: "offer",
                        sdp: &shared.offer_sdp,
                    },
                };
                member.conn.send(offer.text()).await?;
            }
            "webrtc_answer" => {
                let Some(from) = msg.from_user_id else {
                    continue;
                };
                send_candidates(&mut member.conn, Some(&from), shared.candidates).await?;
            }
            "webrtc_ice" => {
                let Some(from) = msg.from_user_id else {
                    continue;
                };
                let count = candidates_from
                    .entry(from.clone().into_owned())
                    .or_default();
                *count += 1;
                if *count == shared.candidates {
                    let mark = Mark {
                        guest: from.into_owned(),
                        stage: Stage::HostDone,
                        at,
                    };
                    let _ = shared.marks.send(mark).await;
                }
            }
            _ => {}
        }
    }
}

/// A guest: waits for the run, then does one handshake (one of at most `in_flight` at once).
async fn guest(
    ctx: Arc<Ctx>,
    shared: Arc<Shared>,
    session: usize,
    index: usize,
    code: String,
) -> Tally {
    let Some(mut member) = open_guest(&ctx, session, index, &code).await else {
        return Tally::default();
    };
    let outcome = async {
        member.idle_until(Phase::Run).await?;
        let result = match ctx.in_flight.acquire().await {
            Ok(_permit) => tokio::time::timeout(ctx.target.timeout, shake(&mut member, &shared))
                .await
                .unwrap_or(Err(Failure::Timeout("handshake"))),
            Err(_) => Err(Failure::Protocol("bench shut down")),
        };
        if let Err(failure) = &result {
            let mark = Mark {
                guest: member.user_id.clone(),
                stage: Stage::Failed(failure.label()),
                at: now_ns(),
            };
            let _ = shared.marks.send(mark).await;
        }
        result?;
        member.idle_until(Phase::Stop).await
    }
    .await;
    member.finish(outcome).await
}

/// The guest's side of one handshake.
async fn shake(member: &mut Member, shared: &Shared) -> Result<(), Failure> {
    let start = Mark {
        guest: member.user_id.clone(),
        stage: Stage::Requested,
        at: now_ns(),
    };
    let _ = shared.marks.send(start).await;
    member.conn.send(Outbound::WebrtcRequest {}.text()).await?;
    let mut answered = false;
    let mut received = 0;
    while received < shared.candidates {
        let frame = member.conn.recv().await?;
        let at = now_ns();
        let Some(msg) = member.tally.note(&frame) else {
            continue;
        };
        match msg.kind.as_ref() {
            "webrtc_offer" if !answered => {
                answered = true;
                let answer = Outbound::WebrtcAnswer {
                    sdp: Sdp {
                        kind: "answer",
                        sdp: &shared.answer_sdp,
                    },
                };
                member.conn.feed(answer.text()).await?;
                send_candidates(&mut member.conn, None, shared.candidates).await?;
            }
            "webrtc_ice" => {
                received += 1;
                if received == shared.candidates {
                    let done = Mark {
                        guest: member.user_id.clone(),
                        stage: Stage::GuestDone,
                        at,
                    };
                    let _ = shared.marks.send(done).await;
                }
            }
            "error" => return Err(Failure::Refused(msg.error_label())),
            _ => {}
        }
    }
    Ok(())
}

/// Sends `n` candidates (to `target`, from a host) in one write.
async fn send_candidates(conn: &mut Conn, target: Option<&str>, n: usize) -> Result<(), Failure> {
    for seq in 0..n as u64 {
        let ice = wire::ice(target, seq, now_ns());
        conn.feed(ice.text()).await?;
    }
    conn.flush().await
}
