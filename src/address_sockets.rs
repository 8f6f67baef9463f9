//! The sockets-per-address cap: how many WebSockets each client address (IPv4, or IPv6 /64, see
//! `familiar_actors::address`) holds open, checked at the upgrade. A connection holds its
//! [`SocketSlot`] for its whole life; dropping it gives the place back.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::http::header;
use actix_web::HttpResponse;
use familiar_actors::address::address_key;
use familiar_actors::metrics::Metrics;
use serde_json::json;

/// Open sockets per address. Touched once per upgrade and once per close, never per frame, so a
/// plain mutex is enough.
#[derive(Default)]
pub struct AddressSockets {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One open socket counted against its address; gives its place back when dropped.
pub struct SocketSlot {
    tally: Arc<AddressSockets>,
    address: IpAddr,
}

/// The address already holds as many sockets as the cap allows.
#[derive(Debug)]
pub struct AddressFull;

impl AddressSockets {
    /// A slot for one more socket from `ip`, or [`AddressFull`] when its address already holds
    /// `cap`. `Ok(None)`: nothing to count (no cap, or no known address).
    pub fn acquire(
        self: &Arc<Self>,
        ip: Option<IpAddr>,
        cap: usize,
    ) -> Result<Option<SocketSlot>, AddressFull> {
        let Some(ip) = ip.filter(|_| cap > 0) else {
            return Ok(None);
        };
        let address = address_key(ip);
        let mut open = self.lock();
        let count = open.entry(address).or_default();
        if *count >= cap {
            return Err(AddressFull);
        }
        *count += 1;
        Ok(Some(SocketSlot {
            tally: self.clone(),
            address,
        }))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        // A panic elsewhere while holding it leaves a count that is still right.
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self.tally.lock();
        if let Some(count) = open.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

/// The refused upgrade: 429 with a JSON body and `Retry-After` (by then the handshake window has
/// closed any silent socket of the address), counted as `refused_total{reason="sockets_per_ip"}`.
pub fn refusal(metrics: &Metrics, cap: usize, retry_after_secs: u64) -> HttpResponse {
    Metrics::inc(&metrics.refused, "reason", "sockets_per_ip");
    log::info!("upgrade refused: the address holds its {cap} sockets");
    HttpResponse::TooManyRequests()
        .insert_header((header::RETRY_AFTER, retry_after_secs.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "detail": format!("Too many connections from your address (limit {cap})"),
            "code": "too_many_sockets",
            "retry_after_ms": retry_after_secs * 1000,
        }))
}
