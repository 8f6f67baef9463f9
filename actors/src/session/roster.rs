//! Who is in a session, in order: the host in the first seat, guests and listeners after it in
//! join order. The only place that knows the host sits first; everything else asks by seat,
//! connection or user. Generic over what a seat holds, so it is tested without actors.

use bytestring::ByteString;

use crate::ids::{ConnId, UserId};
use crate::outbound::Outbound;

/// What the roster needs to know of a member.
pub trait Seated {
    fn user_id(&self) -> &UserId;
    /// The member's connection, `None` while it is away.
    fn conn_id(&self) -> Option<ConnId>;
    /// Sends to the member's connection; nothing while it is away.
    fn deliver(&self, out: Outbound);
}

/// A place in the roster. Seats shift when someone before them leaves, so a seat is only good
/// until the roster next changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seat(usize);

impl Seat {
    /// The host's seat.
    pub const HOST: Seat = Seat(0);

    pub fn is_host(self) -> bool {
        self == Seat::HOST
    }
}

/// The members of one session: host first, then in join order.
pub struct Roster<M> {
    members: Vec<M>,
}

impl<M: Seated> Default for Roster<M> {
    fn default() -> Self {
        Roster {
            members: Vec::new(),
        }
    }
}

impl<M: Seated> Roster<M> {
    /// Seats `member` last; the first member seated is the host.
    pub fn seat(&mut self, member: M) -> Seat {
        self.members.push(member);
        Seat(self.members.len() - 1)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Members with their connection up.
    pub fn connected(&self) -> usize {
        self.members
            .iter()
            .filter(|m| m.conn_id().is_some())
            .count()
    }

    pub fn host(&self) -> Option<&M> {
        self.members.first()
    }

    pub fn get(&self, seat: Seat) -> &M {
        &self.members[seat.0]
    }

    pub fn get_mut(&mut self, seat: Seat) -> &mut M {
        &mut self.members[seat.0]
    }

    /// Everyone, host first.
    pub fn iter(&self) -> impl Iterator<Item = &M> {
        self.members.iter()
    }

    pub fn by_conn(&self, conn: ConnId) -> Option<Seat> {
        self.members
            .iter()
            .position(|m| m.conn_id() == Some(conn))
            .map(Seat)
    }

    pub fn by_user(&self, user_id: &str) -> Option<Seat> {
        self.members
            .iter()
            .position(|m| m.user_id().as_str() == user_id)
            .map(Seat)
    }

    /// The seat of `user_id` unless it is the host's: the targets a host may kick or signal.
    pub fn guest_by_user(&self, user_id: &str) -> Option<Seat> {
        self.by_user(user_id).filter(|seat| !seat.is_host())
    }

    /// The seat of the first member `pick` is true for.
    pub fn find(&self, pick: impl Fn(&M) -> bool) -> Option<Seat> {
        self.members.iter().position(pick).map(Seat)
    }

    /// Takes a guest out; the host's seat is never emptied this way (its leaving ends the
    /// session, see [`Roster::take_all`]).
    pub fn remove_guest(&mut self, seat: Seat) -> Option<M> {
        (!seat.is_host() && seat.0 < self.members.len()).then(|| self.members.remove(seat.0))
    }

    /// Empties the roster: the host (if any) and everyone else, in seat order.
    pub fn take_all(&mut self) -> (Option<M>, Vec<M>) {
        if self.members.is_empty() {
            return (None, Vec::new());
        }
        let mut all: Vec<M> = self.members.drain(..).collect();
        let host = all.remove(0);
        (Some(host), all)
    }

    pub fn send(&self, seat: Seat, out: Outbound) {
        self.get(seat).deliver(out);
    }

    /// Sends to the host, if it is connected.
    pub fn send_host(&self, out: Outbound) {
        if let Some(host) = self.host() {
            host.deliver(out);
        }
    }

    /// Sends the text `frame()` builds to every connected member `to` picks; the text is built
    /// once, and only when someone receives it.
    pub fn broadcast(&self, frame: impl FnOnce() -> ByteString, to: impl Fn(&M) -> bool) {
        let mut frame = Some(frame);
        let mut text: Option<ByteString> = None;
        for member in self
            .members
            .iter()
            .filter(|m| m.conn_id().is_some() && to(m))
        {
            if text.is_none() {
                text = frame.take().map(|f| f());
            }
            if let Some(text) = &text {
                member.deliver(Outbound::Frame(text.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    struct Fake {
        id: UserId,
        conn: Option<ConnId>,
        got: RefCell<Vec<String>>,
    }

    impl Fake {
        fn new(id: &str, conn: u64) -> Self {
            Fake {
                id: UserId::from(id),
                conn: Some(ConnId(conn)),
                got: RefCell::new(Vec::new()),
            }
        }
    }

    impl Seated for Fake {
        fn user_id(&self) -> &UserId {
            &self.id
        }
        fn conn_id(&self) -> Option<ConnId> {
            self.conn
        }
        fn deliver(&self, out: Outbound) {
            if let Outbound::Frame(text) = out {
                self.got.borrow_mut().push(text.to_string());
            }
        }
    }

    fn roster() -> Roster<Fake> {
        let mut roster = Roster::default();
        assert!(roster.seat(Fake::new("host", 1)).is_host());
        assert!(!roster.seat(Fake::new("ana", 2)).is_host());
        roster.seat(Fake::new("bob", 3));
        roster
    }

    #[test]
    fn the_first_seated_is_the_host() {
        let roster = roster();
        assert_eq!(roster.host().map(|h| h.id.as_str()), Some("host"));
        assert_eq!(roster.by_user("host"), Some(Seat::HOST));
        assert_eq!(roster.by_conn(ConnId(1)), Some(Seat::HOST));
        assert_eq!(roster.by_conn(ConnId(3)), roster.by_user("bob"));
        assert_eq!(roster.by_conn(ConnId(9)), None);
    }

    #[test]
    fn the_host_is_never_a_guest_target_nor_removed_as_one() {
        let mut roster = roster();
        assert_eq!(roster.guest_by_user("host"), None);
        assert!(roster.guest_by_user("ana").is_some());
        assert!(roster.remove_guest(Seat::HOST).is_none());
        let ana = roster.by_user("ana").unwrap();
        assert_eq!(roster.remove_guest(ana).map(|m| m.id), Some("ana".into()));
        // Join order is kept: bob moves up, the host stays first.
        assert_eq!(roster.by_user("bob"), Some(ana));
        assert_eq!(roster.host().map(|h| h.id.as_str()), Some("host"));
    }

    #[test]
    fn take_all_separates_the_host() {
        let mut roster = roster();
        let (host, rest) = roster.take_all();
        assert_eq!(host.map(|h| h.id), Some("host".into()));
        let rest: Vec<&str> = rest.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(rest, ["ana", "bob"]);
        assert!(roster.is_empty());
        assert!(roster.take_all().0.is_none());
    }

    #[test]
    fn broadcast_skips_the_away_and_builds_the_text_once() {
        let mut roster = roster();
        let bob = roster.by_user("bob").unwrap();
        roster.get_mut(bob).conn = None;
        let built = RefCell::new(0);
        let frame = || {
            *built.borrow_mut() += 1;
            ByteString::from_static("hi")
        };
        roster.broadcast(frame, |m| m.id.as_str() != "ana");
        assert_eq!(*built.borrow(), 1);
        let got: Vec<usize> = roster.iter().map(|m| m.got.borrow().len()).collect();
        assert_eq!(got, [1, 0, 0]);
        assert_eq!(roster.connected(), 2);
        // Nobody to send to: the text is never built.
        roster.broadcast(|| unreachable!("built for no one"), |_| false);
    }
}
