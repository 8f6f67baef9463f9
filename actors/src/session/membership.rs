//! Membership: who gets in (admit, with the password check off the actor thread), who comes
//! back (resume, reconnect, replay), who is away, who leaves, and the end of the session.

use actix::prelude::*;

use super::{Departure, Entry, JoinError, Joined, Member, Seat, Seated, Session};
use crate::familiar::{clean_name, Familiar};
use crate::ids::UserId;
use crate::outbound::{CloseWhy, Conn, Outbound};
use crate::password;
use crate::protocol::{Role, ServerMessage, Welcome, WelcomeKind};
use crate::session::Admit;

impl Session {
    /// Handles an [`Admit`]: a join with a password waits for its check on the blocking pool
    /// (the session goes on with other members meanwhile); everything else is decided now.
    pub(super) fn admit(
        &mut self,
        msg: Admit,
        ctx: &mut Context<Self>,
    ) -> ResponseActFuture<Self, Result<Joined, JoinError>> {
        let Admit { conn, entry } = msg;
        let result = match entry {
            Entry::Create {
                username,
                familiar,
                resumable,
            } => {
                let host = Member::new(
                    UserId::random(),
                    username,
                    Role::Host,
                    familiar,
                    conn,
                    resumable,
                );
                self.seat_host(host, WelcomeKind::Created, None)
            }
            Entry::Restore { claims, last_seq } => {
                // Its token proves the host resumes.
                let mut host = Member::new(
                    claims.user_id,
                    claims.username,
                    Role::Host,
                    claims.familiar,
                    conn,
                    true,
                );
                host.held_through = last_seq.unwrap_or(u64::MAX);
                self.seat_host(host, WelcomeKind::Resumed, last_seq)
            }
            Entry::Resume { claims, last_seq } => self.resume(conn, claims, last_seq, ctx),
            Entry::Join {
                role,
                username,
                password,
                familiar,
                resumable,
            } => {
                let join =
                    move |act: &mut Session| act.join(conn, role, username, familiar, resumable);
                return self.check_password(password, join);
            }
        };
        Box::pin(fut::ready(result))
    }

    /// Runs `join` once `given` matches the session's password (at once without one).
    fn check_password(
        &mut self,
        given: Option<String>,
        join: impl FnOnce(&mut Session) -> Result<Joined, JoinError> + 'static,
    ) -> ResponseActFuture<Self, Result<Joined, JoinError>> {
        let limits = &self.core.limits;
        let Some(hash) = self.password_hash.clone() else {
            return Box::pin(fut::ready(join(self)));
        };
        if let Some(retry_after_ms) = self
            .wrong_passwords
            .blocked(limits.wrong_passwords_per_minute)
        {
            return Box::pin(fut::ready(Err(JoinError::Throttled { retry_after_ms })));
        }
        let given = given.unwrap_or_default();
        if given.len() > limits.max_password_bytes {
            self.wrong_passwords.record();
            return Box::pin(fut::ready(Err(JoinError::WrongPassword)));
        }
        Box::pin(
            password::verify_off_thread(hash, given)
                .into_actor(self)
                .map(move |ok, act, _| {
                    if ok {
                        join(act)
                    } else {
                        act.wrong_passwords.record();
                        Err(JoinError::WrongPassword)
                    }
                }),
        )
    }

    /// Seats the host of a new or restored session and welcomes it.
    fn seat_host(
        &mut self,
        mut host: Member,
        kind: WelcomeKind,
        last_seq: Option<u64>,
    ) -> Result<Joined, JoinError> {
        if !self.roster.is_empty() {
            return Err(JoinError::NotFound);
        }
        host.joined_at = self.created_at.clone();
        let seat = self.roster.seat(host);
        self.counted_in();
        self.welcome(seat, kind, last_seq);
        Ok(self.joined(seat))
    }

    fn join(
        &mut self,
        conn: Conn,
        role: Role,
        username: Option<String>,
        familiar: Option<serde_json::Value>,
        resumable: bool,
    ) -> Result<Joined, JoinError> {
        if self.ended || self.roster.is_empty() {
            return Err(JoinError::NotFound);
        }
        if self.roster.len() >= self.core.limits.max_participants {
            return Err(JoinError::SessionFull);
        }
        let limits = &self.core.limits;
        let username = clean_name(username.as_deref(), limits.max_name_chars, "Guest");
        let familiar = Familiar::sanitize(familiar.as_ref(), &username);
        let member = Member::new(UserId::random(), username, role, familiar, conn, resumable);
        Ok(self.seat_guest(member, WelcomeKind::Joined, None))
    }

    fn resume(
        &mut self,
        conn: Conn,
        claims: crate::token::ResumeClaims,
        last_seq: Option<u64>,
        ctx: &mut Context<Self>,
    ) -> Result<Joined, JoinError> {
        if self.ended || claims.session_id != self.id {
            return Err(JoinError::NotFound);
        }
        if self.kicked.contains(&claims.user_id) {
            return Err(JoinError::Kicked);
        }
        let joined = match self.roster.by_user(claims.user_id.as_str()) {
            Some(seat) => self.reconnect(seat, conn, last_seq, ctx),
            None => {
                if claims.role == Role::Host {
                    // The host's seat is never re-added to a running session.
                    return Err(JoinError::NotFound);
                }
                if self.roster.len() >= self.core.limits.max_participants {
                    return Err(JoinError::SessionFull);
                }
                let mut member = Member::new(
                    claims.user_id,
                    claims.username,
                    claims.role,
                    claims.familiar,
                    conn,
                    true,
                );
                member.held_through = last_seq.unwrap_or(u64::MAX);
                self.seat_guest(member, WelcomeKind::Resumed, last_seq)
            }
        };
        if let Some(seat) = self.roster.by_user(joined.user_id.as_str()) {
            self.replay_to(seat, last_seq);
        }
        Ok(joined)
    }

    /// Seats a guest or listener and tells everyone: the joiner first (its welcome), then the
    /// host (`guest_joined`) and the others (`user_joined`).
    fn seat_guest(&mut self, member: Member, kind: WelcomeKind, last_seq: Option<u64>) -> Joined {
        let conn_id = member.conn_id();
        let seat = self.roster.seat(member);
        self.counted_in();
        self.welcome(seat, kind, last_seq);
        let count = self.roster.len();
        let joiner = self.roster.get(seat);
        let guest_joined = ServerMessage::GuestJoined {
            user_id: joiner.user_id.to_string(),
            username: joiner.username.clone(),
            peer_id: joiner.user_id.to_string(),
            familiar: joiner.familiar.clone(),
            participant_count: count,
        };
        let user_joined = ServerMessage::UserJoined {
            user: joiner.view(),
            participant_count: count,
        };
        self.roster
            .send_host(Outbound::Frame(guest_joined.to_text()));
        self.broadcast(&user_joined, |m| m.conn_id() != conn_id);
        self.joined(seat)
    }

    fn counted_in(&mut self) {
        self.peak = self.peak.max(self.roster.len());
        self.core.metrics.participants_live.inc();
    }

    fn joined(&self, seat: Seat) -> Joined {
        Joined {
            key: self.key,
            user_id: self.roster.get(seat).user_id.clone(),
            host: seat.is_host(),
        }
    }

    /// `session_created`, `session_joined` or `session_resumed` for the member in `seat`; a
    /// member resuming with a `last_seq` from before a restart is asked for its `history`.
    fn welcome(&mut self, seat: Seat, kind: WelcomeKind, last_seq: Option<u64>) {
        let history_after = match kind {
            WelcomeKind::Resumed => self.ask_history(seat, last_seq),
            WelcomeKind::Created | WelcomeKind::Joined => None,
        };
        let member = self.roster.get(seat);
        let welcome = Welcome {
            session: self.view(),
            your_user_id: member.user_id.to_string(),
            ice_servers: self.core.ice.current().as_ref().clone(),
            resume_token: self.token_for(member),
            history_after,
        };
        self.send_to(seat, &welcome.into_message(kind));
    }

    /// Puts a member back on a new connection, replacing an old one if it was still open.
    fn reconnect(
        &mut self,
        seat: Seat,
        conn: Conn,
        last_seq: Option<u64>,
        ctx: &mut Context<Self>,
    ) -> Joined {
        let key = self.key;
        let member = self.roster.get_mut(seat);
        if let Some(timer) = member.grace_timer.take() {
            ctx.cancel_future(timer);
        }
        let was_away = member.conn.is_none();
        member.resumable = true;
        if let Some(last_seq) = last_seq {
            member.held_through = member.held_through.min(last_seq);
        }
        if let Some(old) = member.conn.replace(conn) {
            // A half-open old socket: it is no longer this member.
            old.send(Outbound::Detached { key });
            old.send(Outbound::Close(CloseWhy::REPLACED));
        }
        self.welcome(seat, WelcomeKind::Resumed, last_seq);
        if was_away {
            let user_id = self.roster.get(seat).user_id.clone();
            let back = ServerMessage::UserBack {
                user_id: user_id.to_string(),
            };
            self.broadcast(&back, |m| m.user_id != user_id);
        }
        self.joined(seat)
    }

    /// Sends a resumed member what it missed: chat and reactions after `last_seq`, once, then
    /// the current playback as one snapshot.
    fn replay_to(&self, seat: Seat, last_seq: Option<u64>) {
        let Some(last_seq) = last_seq else { return };
        self.replay_history(seat, last_seq);
        let member = self.roster.get(seat);
        if member.role != Role::Host && self.seq > last_seq {
            self.send_to(seat, &self.playback_message(false, Some(self.seq)));
        }
    }

    /// Removes the member in `seat` and tells the others; the host's departure ends the session.
    pub(super) fn depart(&mut self, seat: Seat, why: Departure, ctx: &mut Context<Self>) {
        let Some(member) = self.roster.remove_guest(seat) else {
            return self.end(ctx);
        };
        self.core.metrics.participants_live.dec();
        if let Some(timer) = member.grace_timer {
            ctx.cancel_future(timer);
        }
        member.deliver(Outbound::Detached { key: self.key });
        let left = ServerMessage::UserLeft {
            user_id: member.user_id.to_string(),
            participant_count: self.roster.len(),
            reason: Some(why.reason().to_string()),
        };
        self.broadcast(&left, |_| true);
    }

    /// Ends the session: everyone remaining hears `user_left` (reason `host_left`), then
    /// `session_ended`; the code is freed when the actor stops.
    fn end(&mut self, ctx: &mut Context<Self>) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.at_end = self.roster.len();
        let (host, rest) = self.roster.take_all();
        let Some(host) = host else {
            return ctx.stop();
        };
        self.core.metrics.participants_live.dec();
        host.deliver(Outbound::Detached { key: self.key });
        let left = ServerMessage::UserLeft {
            user_id: host.user_id.to_string(),
            participant_count: rest.len(),
            reason: Some("host_left".into()),
        };
        let ended = ServerMessage::SessionEnded {
            reason: "host_left".into(),
        };
        for notice in [left, ended] {
            let frame = notice.to_text();
            for member in rest.iter().filter(|m| m.conn.is_some()) {
                member.deliver(Outbound::Frame(frame.clone()));
            }
        }
        for member in rest {
            self.core.metrics.participants_live.dec();
            member.deliver(Outbound::Detached { key: self.key });
        }
        ctx.stop();
    }

    /// A member's socket dropped: keep it as away for the grace period, then remove it. A member
    /// that never said it resumes departs at once, as the contract says (a host's drop ends the
    /// session): it would never come back, and the others would wait for nothing.
    pub(super) fn went_away(&mut self, seat: Seat, ctx: &mut Context<Self>) {
        let grace = self.core.limits.grace_period;
        if grace.is_zero() || !self.roster.get(seat).resumable {
            return self.depart(seat, Departure::Disconnected, ctx);
        }
        let member = self.roster.get_mut(seat);
        member.conn = None;
        let user_id = member.user_id.clone();
        let timer_user = user_id.clone();
        member.grace_timer = Some(ctx.run_later(grace, move |act, ctx| {
            if let Some(seat) = act.roster.by_user(timer_user.as_str()) {
                let member = act.roster.get_mut(seat);
                if member.conn.is_none() {
                    member.grace_timer = None;
                    act.depart(seat, Departure::Disconnected, ctx);
                }
            }
        }));
        let notice = if seat.is_host() {
            ServerMessage::HostAway {
                user_id: user_id.to_string(),
                grace_ms: grace.as_millis() as u64,
            }
        } else {
            ServerMessage::UserAway {
                user_id: user_id.to_string(),
            }
        };
        self.broadcast(&notice, |m| m.user_id != user_id);
    }

    /// A connection that died without telling us (it stopped while its join was in flight)
    /// is handled as a disconnect, so no member lingers on a dead recipient.
    pub(super) fn sweep_dead_connections(&mut self, ctx: &mut Context<Self>) {
        while let Some(seat) = self
            .roster
            .find(|m| m.conn.as_ref().is_some_and(|c| !c.tx.connected()))
        {
            if self.ended {
                return;
            }
            self.went_away(seat, ctx);
        }
    }
}
