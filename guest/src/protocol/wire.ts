// Generated from actors/src/protocol/ by ts-rs (actors/src/bindings.rs). Do not edit:
// run `UPDATE_BINDINGS=1 cargo test -p familiar-actors --test bindings` instead.

/** A familiar as a client may send it: any field may be missing or wrong (defaults apply). */
export type FamiliarInput = Partial<Familiar> | Record<string, unknown>;

export type Variant = "halo" | "ember" | "prism";

export type Accent = "drift" | "orbit" | "ripple";

export type Familiar = { variant: Variant, 
/**
 * `#rrggbb`, lower-case.
 */
color: string, accent: Accent, seed: number, };

export type Role = "host" | "listener" | "guest";

export type IcePath = "direct" | "stun" | "turn";

export type ReactionKind = "cheer" | "pulse" | "wave" | "spark";

export type Capability = "resume";

export type IceServer = { urls: string | string[], username?: string, credential?: string, };

export type TrackMeta = { title?: string, artist?: string, album?: string, bpm?: number, };

export type QueuedTrack = { title?: string, artist?: string, album?: string, };

export type PlaybackState = { track_id: string | null, is_playing: boolean, position_ms: number, };

export type ParticipantView = { user_id: string, username: string, role: Role, familiar: Familiar, 
/**
 * RFC 3339, UTC.
 */
joined_at: string, webrtc_connected: boolean, 
/**
 * How this member's audio connected, once it reported (our addition).
 */
ice_path?: IcePath, 
/**
 * True while the member's socket is down within the grace period (our addition).
 */
away: boolean, };

export type SessionView = { id: string, code: string, name: string, host_id: string, created_at: string, participant_count: number, webrtc_enabled: boolean, has_password: boolean, playback_state: PlaybackState, 
/**
 * The last `track_meta` the host sent, so a late joiner sees the title at once.
 */
track_meta?: TrackMeta, 
/**
 * The last `up_next` the host sent (our addition), so a late joiner sees the queue at once.
 */
up_next?: Array<QueuedTrack>, 
/**
 * Host first, then in join order.
 */
participants: Array<ParticipantView>, 
/**
 * The session's latest sequence number: a client that has seen nothing yet resumes with
 * this as its `last_seq` (our addition).
 */
seq: number, };

export type PublicSession = { code: string, name: string, participant_count: number, has_password: boolean, 
/**
 * Whether this relay hands out TURN servers, so the guest page can explain ICE failures.
 */
turn_available: boolean, };

export type ErrorCode = "bad_json" | "not_object" | "missing_type" | "invalid_message" | "binary_not_supported" | "already_in_session" | "session_not_found" | "invalid_password" | "session_full" | "server_full" | "not_host" | "cannot_kick" | "host_cannot_request_offer" | "not_allowed" | "kicked" | "chat_too_long" | "chat_empty" | "password_too_long" | "rate_limited" | "join_throttled" | "invalid_token" | "token_expired" | "host_not_back" | "too_many_sessions" | "internal";

export type JoinFields = { code: string, guest_name?: string, username?: string, password?: string, familiar?: FamiliarInput | null, 
/**
 * What this client can do beyond the contract (our addition; old clients omit it).
 */
capabilities?: Array<Capability>, };

export type ClientMessage = { "type": "create", name?: string, username?: string, password?: string, familiar?: FamiliarInput | null, 
/**
 * What this client can do beyond the contract (our addition; old clients omit it).
 */
capabilities?: Array<Capability>, } | { "type": "join" } & JoinFields | { "type": "join_guest" } & JoinFields | { "type": "resume", token: string, 
/**
 * The highest `seq` this client saw; what came after it is replayed.
 */
last_seq?: number, } | { "type": "update_familiar", familiar?: FamiliarInput | null, } | { "type": "playback", 
/**
 * Absent: keep the stored value; `null`: no track.
 */
track_id?: string | null, is_playing?: boolean, position_ms?: number, track_meta?: TrackMeta | null, 
/**
 * What the host queued after this track (our addition; sanitized by the session).
 */
up_next?: Array<QueuedTrack> | null, } | { "type": "sync_request", } | { "type": "chat", message: string, 
/**
 * The client's own id for this chat, so a copy re-sent after a reconnect or a relay
 * restart is recognised (our addition; see [`MessageId`]).
 */
id?: string, } | { "type": "reaction", 
/**
 * Anything but one of the four kinds (a number, null) is ignored, never an error.
 */
kind: ReactionKind, 
/**
 * As for `chat`.
 */
id?: string, } | { "type": "history", entries: Array<string>, } | { "type": "kick", target_user_id: string, } | { "type": "leave", } | { "type": "webrtc_request", } | { "type": "webrtc_offer", target_user_id: string, sdp: unknown, } | { "type": "webrtc_answer", sdp: unknown, } | { "type": "webrtc_ice", target_user_id?: string, candidate: unknown, } | { "type": "webrtc_connected", connected: boolean, 
/**
 * How the audio connected (our addition; old clients omit it).
 */
path?: IcePath, 
/**
 * Where the connection failed, when `connected` is false (our addition).
 */
failed_stage?: string, };

export type ServerMessage = { "type": "session_created", session: SessionView, your_user_id: string, ice_servers: Array<IceServer>, resume_token: string, } | { "type": "session_joined", session: SessionView, your_user_id: string, your_peer_id: string, ice_servers: Array<IceServer>, resume_token: string, } | { "type": "session_resumed", session: SessionView, your_user_id: string, your_peer_id: string, ice_servers: Array<IceServer>, resume_token: string, 
/**
 * Set when the relay restarted since this member's `last_seq` (our addition): send
 * `history` with the chat and reaction frames held whose `seq` is above this.
 */
history_after?: number, } | { "type": "guest_joined", user_id: string, username: string, peer_id: string, familiar: Familiar, participant_count: number, } | { "type": "user_joined", user: ParticipantView, participant_count: number, } | { "type": "user_updated", user: ParticipantView, } | { "type": "playback_update", track_id: string | null, is_playing: boolean, position_ms: number, track_meta?: TrackMeta, 
/**
 * The host's queue after this track, as its last `playback` gave it (our addition).
 */
up_next?: Array<QueuedTrack>, heartbeat?: boolean, seq?: number, } | { "type": "sync_response", track_id: string | null, is_playing: boolean, position_ms: number, } | { "type": "chat", user_id: string, username: string, message: string, seq?: number, 
/**
 * The sender's id for it, when it gave one (our addition).
 */
id?: string, 
/**
 * The relay's seal over this frame (our addition; always last): what lets members hand
 * it back after a restart (`history`) without being able to forge one.
 */
mac?: string, } | { "type": "user_reaction", user_id: string, username: string, kind: ReactionKind, 
/**
 * Milliseconds since the Unix epoch.
 */
timestamp: number, seq?: number, 
/**
 * As for `chat`.
 */
id?: string, 
/**
 * As for `chat`.
 */
mac?: string, } | { "type": "user_kicked", user_id: string, reason: string, } | { "type": "user_left", user_id: string, participant_count: number, reason?: string, } | { "type": "user_away", user_id: string, } | { "type": "user_back", user_id: string, } | { "type": "host_away", user_id: string, grace_ms: number, } | { "type": "left", } | { "type": "webrtc_create_offer", target_user_id: string, peer_id: string, } | { "type": "webrtc_offer", sdp: unknown, from_user_id: string, } | { "type": "webrtc_answer", sdp: unknown, from_user_id: string, } | { "type": "webrtc_ice", candidate: unknown, from_user_id: string, } | { "type": "webrtc_state_changed", user_id: string, connected: boolean, path?: IcePath, failed_stage?: string, } | { "type": "session_ended", reason: string, } | { "type": "token_refreshed", resume_token: string, } | { "type": "server_restarting", retry_after_ms: number, 
/**
 * Spread reconnects evenly over this many milliseconds after `retry_after_ms`, so the
 * relay takes them back at the rate it can (our addition; sized by the open sockets).
 */
retry_jitter_ms?: number, } | { "type": "error", message: string, code: ErrorCode, retry_after_ms?: number, };
