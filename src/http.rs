//! The HTTP surface: health, the public session lookup, the WebSocket upgrade, the guest app's
//! pages and assets, and `/metrics` on its private port.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use actix_files::{Files, NamedFile};
use actix_web::dev::Service;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse, Responder};
use familiar_actors::code::SessionCode;
use familiar_actors::registry::Lookup;
use serde_json::json;

use crate::address_sockets;
use crate::cluster;
use crate::connection::guard::guarded_payload;
use crate::connection::Connection;
use crate::state::AppState;

/// Shown on `/` and `/listen/{code}` when the guest app has not been built.
const NOT_BUILT_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>familiar-sessions</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="font-family:system-ui;background:#14121a;color:#f4efe6;max-width:36rem;margin:3rem auto;padding:0 1rem">
<h1>familiar-sessions is running</h1>
<p>The relay works, but the guest web app has not been built yet, so there is no page to show.</p>
<p>Build it with <code>cd guest &amp;&amp; npm ci &amp;&amp; npm run build</code> (or run <code>./run</code> from the repository),
then reload.</p></body></html>"#;

/// Registers every public route on `cfg`.
pub fn routes(cfg: &mut web::ServiceConfig, static_dir: &Path) {
    cfg.route("/health", web::get().to(health))
        .route("/api/v1/sessions/ws", web::get().to(websocket))
        .service(
            web::resource("/api/v1/sessions/by-code/{code}")
                .route(web::get().to(by_code))
                .route(web::method(actix_web::http::Method::OPTIONS).to(cors_preflight)),
        )
        .route("/", web::get().to(index))
        .route("/listen/{code}", web::get().to(index))
        .route("/listen/{code}/", web::get().to(index))
        .route("/host", web::get().to(index))
        .route("/index.html", web::get().to(index));
    let assets = static_dir.join("assets");
    cfg.service(
        web::scope("/assets")
            // Hashed names never change content: cache a year. Only a hit, though — a 404
            // during a rolling deploy must not be pinned.
            .wrap_fn(|req, srv| {
                let response = srv.call(req);
                async move {
                    let mut response = response.await?;
                    if response.status().is_success() {
                        response.headers_mut().insert(
                            header::CACHE_CONTROL,
                            HeaderValue::from_static("public, max-age=31536000, immutable"),
                        );
                    }
                    Ok(response)
                }
            })
            .service(Files::new("", assets)),
    );
    // Anything else at the top level of the build (icons, manifest), short-cached.
    cfg.service(Files::new("/", static_dir.to_path_buf()).use_etag(true));
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "healthy"}))
}

fn cors(mut response: HttpResponse) -> HttpResponse {
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, OPTIONS"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn cors_preflight() -> HttpResponse {
    cors(HttpResponse::NoContent().finish())
}

async fn by_code(
    state: web::Data<Arc<AppState>>,
    req: HttpRequest,
    code: web::Path<String>,
) -> HttpResponse {
    let code = SessionCode::parse(&code);
    if let Some(answer) = cluster::endpoints::lookup_elsewhere(&state, &req, &code).await {
        return cors(answer);
    }
    match state.registry.send(Lookup { code }).await {
        Ok(Some(public)) => cors(HttpResponse::Ok().json(public)),
        _ => cors(HttpResponse::NotFound().json(json!({"detail": "Session not found"}))),
    }
}

/// `index.html` for every page route, never cached (it names the hashed assets of this build).
async fn index(state: web::Data<Arc<AppState>>, req: HttpRequest) -> HttpResponse {
    let path = state.config.static_dir.join("index.html");
    let response = match NamedFile::open_async(&path).await {
        Ok(file) => file
            .use_etag(false)
            .use_last_modified(false)
            .respond_to(&req)
            .map_into_boxed_body(),
        Err(_) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(NOT_BUILT_PAGE),
    };
    let mut response = response;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    response
}

/// The client's IP: `Fly-Client-IP` when configured to trust it, else the peer address.
fn client_ip(state: &AppState, req: &HttpRequest) -> Option<IpAddr> {
    if state.config.trust_fly_client_ip {
        let from_header = req
            .headers()
            .get("fly-client-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        if from_header.is_some() {
            return from_header;
        }
    }
    req.peer_addr().map(|a| a.ip())
}

async fn websocket(
    state: web::Data<Arc<AppState>>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let peer = cluster::endpoints::from_peer(&state, &req);
    let allowed = &state.config.allowed_origins;
    if !allowed.is_empty() && peer.is_none() {
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !allowed.iter().any(|a| a.trim_end_matches('/') == origin) {
            return Ok(HttpResponse::Forbidden().body("origin not allowed"));
        }
    }
    if let Some(replay) = cluster::endpoints::replay_socket(&state, &req, peer.as_ref()).await {
        return Ok(replay);
    }
    let (ip, hops) = match &peer {
        Some(peer) => (peer.client_ip, peer.hops),
        None => (client_ip(&state, &req), 0),
    };
    let cap = state.config.max_sockets_per_ip;
    let Ok(slot) = state.sockets.acquire(ip, cap) else {
        let retry_secs = state.config.handshake_timeout_ms.div_ceil(1000).max(1);
        return Ok(address_sockets::refusal(
            &state.core.metrics,
            cap,
            retry_secs,
        ));
    };
    let body = guarded_payload(&req, body, state.config.max_frame_bytes);
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    Connection::start_at_hop(state.get_ref().clone(), ip, hops, slot, session, stream);
    Ok(response)
}

/// `/metrics` in the Prometheus text format (private port only).
pub async fn metrics(state: web::Data<Arc<AppState>>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.core.metrics.encode())
}
