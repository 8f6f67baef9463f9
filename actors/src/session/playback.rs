//! Playback: the host's `playback` updates, `sync_request`, the heartbeat that repeats the
//! state while it changes, and what a `track_meta` and an `up_next` may carry.

use serde_json::{Map, Value};

use super::{cut, Seat, Session};
use crate::familiar::clean_name;
use crate::protocol::{ErrorCode, QueuedTrack, Role, ServerMessage, TrackMeta};

/// Tracks of an `up_next` kept; the rest are dropped (the guest page shows this many).
const UP_NEXT_MAX: usize = 10;

impl Session {
    /// `playback`: only the host; absent fields keep their value, `track_id: null` clears it.
    pub(super) fn playback(
        &mut self,
        seat: Seat,
        track_id: Option<Option<String>>,
        is_playing: Option<bool>,
        position_ms: Option<f64>,
        track_meta: Option<Value>,
        up_next: Option<Value>,
    ) {
        if !seat.is_host() {
            return self.send_error(seat, ErrorCode::NotHost);
        }
        if let Some(track_id) = track_id {
            self.playback.track_id = track_id.map(|t| cut(&t, 512));
        }
        if let Some(is_playing) = is_playing {
            self.playback.is_playing = is_playing;
        }
        if let Some(position) = position_ms.filter(|p| p.is_finite() && *p >= 0.0) {
            self.playback.position_ms = position;
        }
        self.track_meta = track_meta.as_ref().and_then(sanitize_track_meta);
        // Like `track_meta`, replaced by each `playback`: absent means the host says nothing.
        self.up_next = up_next.as_ref().and_then(sanitize_up_next);
        self.playback_changed = true;
        let seq = self.next_seq();
        let update = self.playback_message(false, Some(seq));
        self.broadcast(&update, |m| m.role != Role::Host);
    }

    /// `sync_request`: the current triple, to the asker only.
    pub(super) fn sync(&self, seat: Seat) {
        let sync = ServerMessage::SyncResponse {
            track_id: self.playback.track_id.clone(),
            is_playing: self.playback.is_playing,
            position_ms: self.playback.position_ms,
        };
        self.send_to(seat, &sync);
    }

    pub(super) fn playback_message(&self, heartbeat: bool, seq: Option<u64>) -> ServerMessage {
        ServerMessage::PlaybackUpdate {
            track_id: self.playback.track_id.clone(),
            is_playing: self.playback.is_playing,
            position_ms: self.playback.position_ms,
            track_meta: self.track_meta.clone(),
            up_next: self.up_next.clone(),
            heartbeat,
            seq,
        }
    }

    /// Repeats the playback state to everyone but the host, when it changed since last time.
    pub(super) fn heartbeat(&mut self) {
        if !self.playback_changed {
            return;
        }
        self.playback_changed = false;
        let beat = self.playback_message(true, None);
        self.broadcast(&beat, |m| m.role != Role::Host);
    }
}

/// Keeps only `title`, `artist`, `album` (strings, cut to 200 characters) and `bpm` (a
/// positive finite number); `None` when nothing usable remains.
fn sanitize_track_meta(value: &Value) -> Option<TrackMeta> {
    let object = value.as_object()?;
    let text = |key: &str| tag_text(object, key);
    let meta = TrackMeta {
        title: text("title"),
        artist: text("artist"),
        album: text("album"),
        bpm: object
            .get("bpm")
            .and_then(Value::as_f64)
            .filter(|b| b.is_finite() && *b > 0.0 && *b < 1000.0),
    };
    (meta != TrackMeta::default()).then_some(meta)
}

/// Keeps at most ten entries that are objects, each with only `title`, `artist`, `album`
/// (strings, cut to 200 characters); anything but an array is no `up_next` at all. Never an
/// error: the host sent it to be helpful.
fn sanitize_up_next(value: &Value) -> Option<Vec<QueuedTrack>> {
    let entries = value.as_array()?;
    Some(
        entries
            .iter()
            .filter_map(Value::as_object)
            .take(UP_NEXT_MAX)
            .map(|entry| QueuedTrack {
                title: tag_text(entry, "title"),
                artist: tag_text(entry, "artist"),
                album: tag_text(entry, "album"),
            })
            .collect(),
    )
}

/// A tag's text: a string, cleaned and cut to 200 characters; `None` when absent or blank.
fn tag_text(object: &Map<String, Value>, key: &str) -> Option<String> {
    object
        .get(key)
        .and_then(Value::as_str)
        .map(|s| clean_name(Some(s), 200, ""))
        .filter(|s| !s.is_empty())
}
