//! The cluster's HTTP side: the two internal endpoints peers ask (who are you, do you hold this
//! code), and the hooks the public routes call — recognising a request from a peer, and
//! answering `fly-replay` (or, when bridging, fetching the answer from the owner) for a request
//! about another machine's session.
//!
//! The internal endpoints sit on the public port (Fly's private network reaches it, and a
//! self-hosted cluster needs no second port), so they answer only requests carrying the
//! cluster key; anything else gets the same 404 as an unknown path.

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use familiar_actors::code::SessionCode;
use familiar_actors::registry::{Accepting, Holds};
use serde_json::json;

use super::wire::{CLIENT_IP_HEADER, HOPS_HEADER, KEY_HEADER};
use super::{Cluster, Route, Routing};
use crate::state::AppState;

/// The response header Fly's proxy acts on, and the one it adds to a replayed request.
pub const REPLAY_HEADER: &str = "fly-replay";
pub const REPLAY_SOURCE_HEADER: &str = "fly-replay-src";

/// A request that came from another machine of the cluster (it carries the cluster key).
pub struct FromPeer {
    /// Machines it passed through before this one.
    pub hops: u8,
    /// The client's address as the first machine saw it.
    pub client_ip: Option<IpAddr>,
}

/// Registers the internal endpoints (only when this machine is in a cluster).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/internal/cluster/machine", web::get().to(machine))
        .route("/internal/cluster/sessions/{code}", web::get().to(session));
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().finish()
}

/// The cluster, when `req` carries its key.
fn authorized<'a>(state: &'a AppState, req: &HttpRequest) -> Option<&'a Arc<Cluster>> {
    let cluster = state.cluster.as_ref()?;
    let key = req.headers().get(KEY_HEADER)?.to_str().ok()?;
    // Compared in full whatever the prefix: the key must not leak a byte at a time.
    let equal = key.len() == cluster.key.len()
        && key
            .bytes()
            .zip(cluster.key.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    equal.then_some(cluster)
}

/// `GET /internal/cluster/machine`: this machine's id, whether it takes sessions, and its
/// view of the peers (for operators and tests).
async fn machine(state: web::Data<Arc<AppState>>, req: HttpRequest) -> HttpResponse {
    let Some(cluster) = authorized(&state, &req) else {
        return not_found();
    };
    let accepting = state.registry.send(Accepting).await.unwrap_or(false);
    let peers: Vec<_> = cluster
        .peers()
        .into_iter()
        .map(|p| json!({"id": p.id, "alive": p.alive}))
        .collect();
    HttpResponse::Ok().json(json!({"id": cluster.me, "accepting": accepting, "peers": peers}))
}

/// `GET /internal/cluster/sessions/{code}`: the public view of a session held here, or 404.
async fn session(
    state: web::Data<Arc<AppState>>,
    req: HttpRequest,
    code: web::Path<String>,
) -> HttpResponse {
    if authorized(&state, &req).is_none() {
        return not_found();
    }
    let code = SessionCode::parse(&code);
    match state.registry.send(Holds { code }).await {
        Ok(Some(public)) => HttpResponse::Ok().json(public),
        _ => not_found(),
    }
}

/// The hops and client address of a request from a peer; `None` for anyone else.
pub fn from_peer(state: &AppState, req: &HttpRequest) -> Option<FromPeer> {
    authorized(state, req)?;
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    Some(FromPeer {
        hops: header(HOPS_HEADER)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1),
        client_ip: header(CLIENT_IP_HEADER).and_then(|v| v.trim().parse().ok()),
    })
}

/// Machines a client request has passed: 1 when Fly's proxy replayed it here, else 0.
fn client_hops(req: &HttpRequest) -> u8 {
    u8::from(req.headers().contains_key(REPLAY_SOURCE_HEADER))
}

/// The answer that makes Fly's proxy replay the request on `machine`.
fn replay_to(machine: &str) -> HttpResponse {
    let mut response = HttpResponse::Conflict().finish();
    if let Ok(value) = HeaderValue::from_str(&format!("instance={machine}")) {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static(REPLAY_HEADER), value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The WebSocket upgrade: a `?code=` for another machine's session is replayed there before
/// the upgrade (replay routing only; when bridging, the socket is upgraded here and its join
/// bridged). `None`: upgrade here.
pub async fn replay_socket(
    state: &AppState,
    req: &HttpRequest,
    peer: Option<&FromPeer>,
) -> Option<HttpResponse> {
    let cluster = state.cluster.as_ref()?;
    if cluster.routing != Routing::Replay || peer.is_some() {
        return None;
    }
    let code = web::Query::<CodeQuery>::from_query(req.query_string())
        .ok()?
        .into_inner()
        .code?;
    match cluster
        .route(&SessionCode::parse(&code), client_hops(req))
        .await
    {
        Route::Here => None,
        Route::Elsewhere(owner) => Some(replay_to(&owner.id)),
    }
}

#[derive(serde::Deserialize)]
struct CodeQuery {
    code: Option<String>,
}

/// `by-code` for a session that is not here: replayed to its owner, or (when bridging) its
/// owner's answer. `None`: answer from here.
pub async fn lookup_elsewhere(
    state: &AppState,
    req: &HttpRequest,
    code: &SessionCode,
) -> Option<HttpResponse> {
    let cluster = state.cluster.as_ref()?;
    if from_peer(state, req).is_some() {
        return None;
    }
    match cluster.routing {
        Routing::Replay => match cluster.route(code, client_hops(req)).await {
            Route::Here => None,
            Route::Elsewhere(owner) => Some(replay_to(&owner.id)),
        },
        _ => {
            if state
                .registry
                .send(Holds { code: code.clone() })
                .await
                .ok()
                .flatten()
                .is_some()
            {
                return None;
            }
            let (_, body) = cluster.find(code).await?;
            Some(
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(body),
            )
        }
    }
}
