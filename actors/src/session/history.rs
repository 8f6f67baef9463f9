//! The session's history of chat and reactions: the frames it keeps (sealed, with their `seq`,
//! author and client id) for members that resume after missing them; a chat or reaction re-sent
//! with an id already held, recognised and not relayed twice; and after a relay restart, the
//! frames resuming members hand back (`history`), checked by their seal and given to the
//! members who missed them. No one process's memory is then the only copy of what was said.
//!
//! Why handing back works: a member receives the session's broadcasts in the order the session
//! sent them, so what it holds is everything up to its `last_seq`, gapless. A member whose
//! `last_seq` is below a frame's `seq` therefore lacks that frame, and every member above it has
//! it; the union of what members hand back is itself gapless up to the highest of them.

use std::collections::VecDeque;

use bytestring::ByteString;
use serde::Deserialize;

use super::{Seat, Seated, Session};
use crate::ids::UserId;
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use crate::protocol::{ErrorCode, MessageId, ServerMessage};

/// One chat or reaction frame as every member received it.
pub(super) struct Held {
    seq: u64,
    author: UserId,
    id: Option<MessageId>,
    frame: ByteString,
}

/// The frames kept, oldest first, at most `capacity` (`REPLAY_BUFFER`).
pub(super) struct History {
    held: VecDeque<Held>,
    capacity: usize,
    /// For a session recreated after a restart: the first `seq` of this relay. Frames below it
    /// were handed out before the restart and can only come back from members.
    restored_below: Option<u64>,
}

/// What a handed-back frame says about itself; the rest is passed on as it is.
#[derive(Deserialize)]
struct Sealed {
    #[serde(rename = "type")]
    kind: String,
    user_id: UserId,
    seq: u64,
    #[serde(default)]
    id: Option<MessageId>,
}

impl History {
    pub(super) fn new(capacity: usize, restored_below: Option<u64>) -> Self {
        History {
            held: VecDeque::new(),
            capacity,
            restored_below,
        }
    }

    /// The frame `author` sent with `id`, if it is still held.
    fn find(&self, author: &UserId, id: &MessageId) -> Option<&Held> {
        self.held
            .iter()
            .rev()
            .find(|h| h.id.as_ref() == Some(id) && h.author == *author)
    }

    /// Keeps the newest frame (its `seq` is above every one held).
    fn push(&mut self, held: Held) {
        if self.capacity == 0 {
            return;
        }
        while self.held.len() >= self.capacity {
            self.held.pop_front();
        }
        self.held.push_back(held);
    }

    /// Keeps a frame handed back, in `seq` order; false if it is already held (by `seq`, or by
    /// author and id) or older than everything a full history keeps.
    fn insert(&mut self, held: Held) -> bool {
        let known = self.held.iter().any(|h| {
            h.seq == held.seq || (held.id.is_some() && h.id == held.id && h.author == held.author)
        });
        let full = self.held.len() >= self.capacity;
        if known
            || self.capacity == 0
            || (full && self.held.front().is_some_and(|h| h.seq > held.seq))
        {
            return false;
        }
        if full {
            self.held.pop_front();
        }
        let at = self.held.partition_point(|h| h.seq < held.seq);
        self.held.insert(at, held);
        true
    }

    /// What a member resuming with `last_seq` lacks, oldest first: the frames after it, and
    /// those from before the restart after `held_through` (handed back while it was away).
    fn missed(&self, last_seq: u64, held_through: u64) -> impl Iterator<Item = &ByteString> {
        let below = self.restored_below.unwrap_or(0);
        self.held
            .iter()
            .filter(move |h| h.seq > last_seq || (h.seq < below && h.seq > held_through))
            .map(|h| &h.frame)
    }

    /// What to ask a member resuming with `last_seq` for: `Some(n)` (send the frames above `n`)
    /// when the relay restarted since that member last heard from it. `promised` is what
    /// another member (the host) already holds and was asked for, so no one else sends it too.
    fn wanted_from(&self, last_seq: u64, promised: u64) -> Option<u64> {
        let below = self.restored_below.filter(|below| last_seq < *below)?;
        let held = self
            .held
            .iter()
            .filter(|h| h.seq < below)
            .map(|h| h.seq)
            .max()
            .unwrap_or(0);
        Some(held.max(promised.min(below - 1)))
    }
}

impl Session {
    /// Seals a chat or reaction, sends it to everyone and keeps it.
    pub(super) fn send_all_and_remember(
        &mut self,
        seat: Seat,
        seq: u64,
        id: Option<MessageId>,
        msg: &ServerMessage,
    ) {
        let frame = ByteString::from(self.core.tokens.seal(self.id.as_str(), &msg.to_text()));
        let copy = frame.clone();
        self.roster.broadcast(move || copy, |_| true);
        let author = self.roster.get(seat).user_id.clone();
        self.history.push(Held {
            seq,
            author,
            id,
            frame,
        });
    }

    /// A chat or reaction re-sent with an id already held (after a reconnect, its sender never
    /// saw the echo): the sender gets the frame again and no one else hears it twice.
    pub(super) fn already_sent(&self, seat: Seat, id: Option<&MessageId>) -> bool {
        let Some(id) = id else { return false };
        let member = self.roster.get(seat);
        let Some(held) = self.history.find(&member.user_id, id) else {
            return false;
        };
        Metrics::inc(&self.core.metrics.repeats_dropped, "type", "resent");
        member.deliver(Outbound::Frame(held.frame.clone()));
        true
    }

    /// Sends a resumed member what it missed: chat and reactions after `last_seq`, once.
    pub(super) fn replay_history(&self, seat: Seat, last_seq: u64) {
        let member = self.roster.get(seat);
        for frame in self.history.missed(last_seq, member.held_through) {
            member.deliver(Outbound::Frame(frame.clone()));
        }
    }

    /// The `history_after` of a resumed member's welcome; asking marks it as allowed to answer.
    /// A guest is not asked for what the host holds: the host came back first, was asked for
    /// everything up to its `last_seq`, and its answer may still be on its way.
    pub(super) fn ask_history(&mut self, seat: Seat, last_seq: Option<u64>) -> Option<u64> {
        let promised = match self.roster.host() {
            Some(host) if !seat.is_host() && host.held_through != u64::MAX => host.held_through,
            _ => 0,
        };
        let after = self.history.wanted_from(last_seq?, promised)?;
        self.roster.get_mut(seat).history_asked = true;
        Some(after)
    }

    /// `history`: the frames a member asked for hands back. Each must carry this session's seal
    /// and a `seq` from before the restart; the new ones are kept and sent to every member that
    /// lacks them (its `last_seq` below theirs), oldest first.
    pub(super) fn take_history(&mut self, seat: Seat, entries: Vec<String>) {
        let member = self.roster.get_mut(seat);
        if !std::mem::take(&mut member.history_asked) {
            return self.send_error(seat, ErrorCode::NotAllowed);
        }
        let Some(below) = self.history.restored_below else {
            return;
        };
        let giver = member.user_id.clone();
        let skip = entries.len().saturating_sub(self.history.capacity);
        let mut taken: Vec<(u64, ByteString)> = Vec::new();
        for entry in entries.into_iter().skip(skip) {
            let outcome = match self.open_sealed(&entry).filter(|s| s.seq < below) {
                None => "refused",
                Some(sealed) => {
                    let frame = ByteString::from(entry);
                    let held = Held {
                        seq: sealed.seq,
                        author: sealed.user_id,
                        id: sealed.id,
                        frame: frame.clone(),
                    };
                    if self.history.insert(held) {
                        taken.push((sealed.seq, frame));
                        "taken"
                    } else {
                        "known"
                    }
                }
            };
            Metrics::inc(&self.core.metrics.history_entries, "outcome", outcome);
        }
        taken.sort_by_key(|(seq, _)| *seq);
        for member in self.roster.iter().filter(|m| m.user_id != giver) {
            for (_, frame) in taken.iter().filter(|(seq, _)| member.held_through < *seq) {
                member.deliver(Outbound::Frame(frame.clone()));
            }
        }
    }

    /// The facts of a handed-back frame, if it is a chat or reaction sealed for this session.
    fn open_sealed(&self, entry: &str) -> Option<Sealed> {
        if !self.core.tokens.unseal(self.id.as_str(), entry) {
            return None;
        }
        let sealed: Sealed = serde_json::from_str(entry).ok()?;
        matches!(sealed.kind.as_str(), "chat" | "user_reaction").then_some(sealed)
    }
}
