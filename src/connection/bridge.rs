//! A connection whose session lives on another cluster machine. On `join` or `resume` (the
//! Familiar app names its code only in a frame, after the upgrade, so the proxy could not route
//! it) the connection asks the cluster where the session is; if elsewhere it opens a WebSocket
//! to the owner over the private network, sends the frame it was given, and from then on
//! passes every frame through unchanged both ways. The owner applies every rule (rates, sizes,
//! membership) and sees the client's own address; this side only keeps the client's socket
//! alive (pings, the silence limit, the bounded backlog) and the close the owner chose.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_ws::{AggregatedMessage, ProtocolError};
use awc::ws::{Frame, Message};
use bytestring::ByteString;
use familiar_actors::outbound::{CloseWhy, Outbound};
use familiar_actors::registry::Request;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::Connection;
use crate::cluster::wire::{CLIENT_IP_HEADER, HOPS_HEADER, KEY_HEADER};
use crate::cluster::{Cluster, Peer, Route};

/// Frames from the client waiting for the owner's socket; past this the owner is not keeping
/// up and the client is closed, never buffered without bound.
const UPSTREAM_QUEUE: usize = 256;

/// How long opening the owner's socket may take.
const CONNECT_DEADLINE: Duration = Duration::from_secs(3);

/// The owner's frames can be larger than a client's (a full `session_joined`, an SDP with its
/// envelope).
const UPSTREAM_MAX_FRAME: usize = 1 << 20;

/// The owner went away without a close frame (its machine died): the client is told to
/// reconnect, and its resume finds the session wherever its host restores it.
pub const OWNER_LOST: CloseWhy = CloseWhy {
    code: 1012,
    reason: "server restarting",
    label: "owner_lost",
};

/// The owner closed with a code the relay never sends itself.
const OWNER_CLOSED: CloseWhy = CloseWhy {
    code: 1011,
    reason: "closed by the session's machine",
    label: "owner_closed",
};

/// A connection's place in the cluster: how far its request travelled, and its bridge if it
/// has one.
#[derive(Default)]
pub(super) struct Link {
    /// Machines its upgrade passed before this one (0: straight from the client).
    pub hops: u8,
    upstream: Option<mpsc::Sender<Message>>,
}

impl Link {
    pub fn at_hop(hops: u8) -> Self {
        Link {
            hops,
            upstream: None,
        }
    }
}

thread_local! {
    // awc clients are per thread; one per worker keeps its connector built once.
    static CLIENT: awc::Client = awc::Client::new();
}

impl Connection {
    /// In a cluster: where the session of `request` lives decides between entering here and
    /// bridging `text` (the frame as received) to its owner. Nothing else is read meanwhile.
    pub(super) fn enter_routed(
        &mut self,
        request: Request,
        text: ByteString,
        received: Instant,
        ctx: &mut Context<Self>,
    ) {
        let Some(cluster) = self.state.cluster.clone() else {
            return self.enter_here(request, received, ctx);
        };
        let hops = self.link.hops;
        let state = self.state.clone();
        let routed = async move {
            let route = cluster
                .route_request(&request, &state.core.tokens, hops)
                .await;
            (route, request)
        };
        ctx.wait(
            routed
                .into_actor(self)
                .map(move |(route, request), act, ctx| match route {
                    Route::Here => act.enter_here(request, received, ctx),
                    Route::Elsewhere(owner) => act.bridge_to(owner, request, text, received, ctx),
                }),
        );
    }

    /// Opens the bridge to `owner` with `text` as its first frame; if the owner cannot be
    /// reached after all, it is marked dead and the request routed again.
    fn bridge_to(
        &mut self,
        owner: Peer,
        request: Request,
        text: ByteString,
        received: Instant,
        ctx: &mut Context<Self>,
    ) {
        let Some(cluster) = self.state.cluster.clone() else {
            return self.enter_here(request, received, ctx);
        };
        let hops = self.link.hops;
        let ip = self.ip;
        let conn = ctx.address().recipient::<Outbound>();
        let first = text.clone();
        let bridged = async move {
            match open_upstream(&cluster, &owner, hops, ip, first, conn.clone()).await {
                Ok(upstream) => Some(upstream),
                Err(e) => {
                    // Died since the last probe: routed again without it (the session may be
                    // restored elsewhere already, or here by this very resume).
                    log::warn!("cluster: bridge to {} failed: {e}", owner.id);
                    cluster.mark_dead(&owner.id);
                    None
                }
            }
        };
        ctx.wait(
            bridged
                .into_actor(self)
                .map(move |upstream, act, ctx| match upstream {
                    Some(upstream) => {
                        log::info!("connection {}: bridged to the session's machine", act.id.0);
                        act.link.upstream = Some(upstream);
                    }
                    None => act.enter_routed(request, text, received, ctx),
                }),
        );
    }

    /// While bridged, a text or binary frame from the client goes to the owner as it came.
    /// False when not bridged or for control frames, which this side answers itself.
    pub(super) fn forward_upstream(
        &mut self,
        item: &Result<AggregatedMessage, ProtocolError>,
        ctx: &mut Context<Self>,
    ) -> bool {
        let Some(upstream) = &self.link.upstream else {
            return false;
        };
        let message = match item {
            Ok(AggregatedMessage::Text(text)) => Message::Text(text.clone()),
            Ok(AggregatedMessage::Binary(bytes)) => Message::Binary(bytes.clone()),
            _ => return false,
        };
        if upstream.try_send(message).is_err() {
            log::info!("connection {}: session's machine not keeping up", self.id.0);
            self.link.upstream = None;
            self.close(OWNER_LOST, ctx);
        }
        true
    }
}

/// Opens the owner's socket, sends `first`, and starts the task that carries frames both ways
/// until either side ends. Frames from the owner reach the connection as `Outbound`, through
/// the same bounded write path as a local session's.
async fn open_upstream(
    cluster: &Arc<Cluster>,
    owner: &Peer,
    hops: u8,
    ip: Option<IpAddr>,
    first: ByteString,
    conn: Recipient<Outbound>,
) -> Result<mpsc::Sender<Message>, String> {
    let url = format!("ws://{}/api/v1/sessions/ws", owner.addr);
    let mut request = CLIENT
        .with(|client| client.ws(url))
        .max_frame_size(UPSTREAM_MAX_FRAME)
        .header(KEY_HEADER, cluster.key.as_str())
        .header(HOPS_HEADER, (hops + 1).to_string());
    if let Some(ip) = ip {
        request = request.header(CLIENT_IP_HEADER, ip.to_string());
    }
    let (_, mut socket) = tokio::time::timeout(CONNECT_DEADLINE, request.connect())
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| e.to_string())?;
    socket
        .send(Message::Text(first))
        .await
        .map_err(|e| e.to_string())?;
    let (tx, mut rx) = mpsc::channel::<Message>(UPSTREAM_QUEUE);
    actix_rt::spawn(async move {
        let why = loop {
            tokio::select! {
                out = rx.recv() => match out {
                    Some(message) => {
                        if socket.send(message).await.is_err() {
                            break OWNER_LOST;
                        }
                    }
                    // The client's connection ended: end the owner's side politely.
                    None => {
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                },
                frame = socket.next() => match frame {
                    Some(Ok(Frame::Text(bytes))) => match ByteString::try_from(bytes) {
                        Ok(text) => conn.do_send(Outbound::Frame(text)),
                        Err(_) => break OWNER_CLOSED,
                    },
                    Some(Ok(Frame::Ping(payload))) => {
                        if socket.send(Message::Pong(payload)).await.is_err() {
                            break OWNER_LOST;
                        }
                    }
                    Some(Ok(Frame::Close(reason))) => {
                        break reason.map_or(OWNER_CLOSED, |r| close_like(u16::from(r.code)));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break OWNER_LOST,
                },
            }
        };
        conn.do_send(Outbound::Close(why));
    });
    Ok(tx)
}

/// The client's close for the owner's close code: the same code and reason the owner would
/// have sent it directly.
fn close_like(code: u16) -> CloseWhy {
    [
        CloseWhy::KICKED,
        CloseWhy::RESTARTING,
        CloseWhy::REPLACED,
        CloseWhy::FLOOD,
        CloseWhy::TOO_BIG,
        CloseWhy::PROTOCOL,
        CloseWhy::SILENT,
    ]
    .into_iter()
    .find(|why| why.code == code)
    .unwrap_or(OWNER_CLOSED)
}
