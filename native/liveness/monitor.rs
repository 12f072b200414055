//! The per-link liveness state machine, pure (time in microseconds passed in) so every
//! transition is unit-testable without sockets.
//!
//! Unknown (never up since the link was added; no verdict) → Up after `up` consecutive send
//! intervals in which a valid packet with the HEAR flag arrived; Up → Down when no such packet
//! arrived for `dead`; Down → Up again only after `up` good intervals. A single lost packet never
//! changes the verdict as long as `dead` is at least two intervals (enforced at start-up).

use crate::packet::Packet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Unknown,
    Up,
    Down,
}

#[derive(Debug, Clone, Copy)]
pub struct Timers {
    pub interval_us: u64,
    pub dead_us: u64,
    pub up: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    Fresh,
    /// Same session, sequence number not newer than the last one accepted.
    Replay,
    /// The peer restarted (new session id).
    NewSession,
}

pub struct Monitor {
    pub verdict: Verdict,
    last_rx: Option<u64>,
    last_ok: Option<u64>,
    heard_since_tick: bool,
    good: u32,
    peer: Option<(u32, u32)>,
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor {
            verdict: Verdict::Unknown,
            last_rx: None,
            last_ok: None,
            heard_since_tick: false,
            good: 0,
            peer: None,
        }
    }
}

impl Monitor {
    /// Records a valid (parsed, authenticated, from the right source) packet.
    pub fn on_packet(&mut self, now: u64, p: &Packet) -> Heard {
        let kind = match self.peer {
            Some((s, q)) if s == p.session => {
                if (p.seq.wrapping_sub(q) as i32) <= 0 {
                    return Heard::Replay;
                }
                Heard::Fresh
            }
            Some(_) => Heard::NewSession,
            None => Heard::Fresh,
        };
        self.peer = Some((p.session, p.seq));
        // `now` is the packet's arrival time (kernel stamp), which may precede one already seen.
        self.last_rx = Some(self.last_rx.map_or(now, |r| r.max(now)));
        if p.hear {
            self.last_ok = Some(self.last_ok.map_or(now, |r| r.max(now)));
            self.heard_since_tick = true;
        }
        kind
    }

    /// Whether we hear the peer (the HEAR flag of our next packet).
    pub fn hearing(&self, now: u64, t: &Timers) -> bool {
        self.last_rx.map_or(false, |r| now.saturating_sub(r) < t.dead_us)
    }

    /// Called once per send interval of the link; returns the new verdict when it became Up.
    pub fn on_tick(&mut self, now: u64, t: &Timers) -> Option<Verdict> {
        self.good = if self.heard_since_tick { self.good.saturating_add(1) } else { 0 };
        self.heard_since_tick = false;
        let fresh = self.last_ok.map_or(false, |r| now.saturating_sub(r) < t.dead_us);
        if self.verdict != Verdict::Up && self.good >= t.up && fresh {
            self.verdict = Verdict::Up;
            return Some(Verdict::Up);
        }
        None
    }

    /// When an Up link is declared Down unless a packet arrives first.
    pub fn deadline(&self, t: &Timers) -> Option<u64> {
        match (self.verdict, self.last_ok) {
            (Verdict::Up, Some(r)) => Some(r + t.dead_us),
            _ => None,
        }
    }

    /// Declares an Up link Down once its deadline has passed.
    pub fn check_dead(&mut self, now: u64, t: &Timers) -> Option<Verdict> {
        match self.deadline(t) {
            Some(d) if now >= d => {
                self.verdict = Verdict::Down;
                self.good = 0;
                self.heard_since_tick = false;
                Some(Verdict::Down)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    const T: Timers = Timers { interval_us: 10_000, dead_us: 30_000, up: 3 };

    fn pkt(seq: u32) -> Packet {
        Packet { hear: true, session: 1, seq }
    }

    /// Drives a monitor through `steps` intervals; `arrives(i)` says whether the peer's packet
    /// of interval i arrives (mid-interval). Returns the verdict changes with their interval.
    fn drive(steps: u32, arrives: impl Fn(u32) -> bool) -> Vec<(u32, Verdict)> {
        let mut m = Monitor::default();
        let mut out = vec![];
        for i in 0..steps {
            let base = i as u64 * T.interval_us;
            if arrives(i) {
                m.on_packet(base + T.interval_us / 2, &pkt(i + 1));
            }
            // The dead deadline can fall anywhere: check at fine steps.
            for k in 1..=10 {
                if let Some(v) = m.check_dead(base + k * T.interval_us / 10, &T) {
                    out.push((i, v));
                }
            }
            if let Some(v) = m.on_tick(base + T.interval_us, &T) {
                out.push((i, v));
            }
        }
        out
    }

    #[test]
    fn comes_up_after_three_good_intervals() {
        assert_eq!(drive(10, |_| true), vec![(2, Verdict::Up)]);
    }

    #[test]
    fn a_single_lost_packet_never_flaps() {
        for lost in 5..15 {
            assert_eq!(drive(30, |i| i != lost), vec![(2, Verdict::Up)], "lost {}", lost);
        }
    }

    #[test]
    fn silence_is_down_within_dead_and_up_again_after_three_good_intervals() {
        // Packets stop after interval 9 (last at 9.5 intervals) and resume at 20.
        let ev = drive(30, |i| !(10..20).contains(&i));
        assert_eq!(ev, vec![(2, Verdict::Up), (12, Verdict::Down), (22, Verdict::Up)]);
        // Down exactly at last + dead: 95 ms + 30 ms = 125 ms, in interval 12.
        let mut m = Monitor::default();
        for i in 0..10u32 {
            m.on_packet(i as u64 * 10_000 + 5_000, &pkt(i + 1));
            m.on_tick((i as u64 + 1) * 10_000, &T);
        }
        assert_eq!(m.check_dead(124_999, &T), None);
        assert_eq!(m.check_dead(125_000, &T), Some(Verdict::Down));
    }

    #[test]
    fn replays_do_not_count_and_a_new_session_does() {
        let mut m = Monitor::default();
        assert_eq!(m.on_packet(0, &pkt(5)), Heard::Fresh);
        assert_eq!(m.on_packet(1, &pkt(5)), Heard::Replay);
        assert_eq!(m.on_packet(2, &pkt(4)), Heard::Replay);
        assert_eq!(m.on_packet(3, &Packet { hear: true, session: 2, seq: 1 }), Heard::NewSession);
        assert_eq!(
            m.on_packet(4, &Packet { hear: true, session: 2, seq: u32::MAX }),
            Heard::Replay
        );
    }

    #[test]
    fn packets_without_hear_flag_never_bring_the_link_up() {
        let mut m = Monitor::default();
        for i in 0..20u32 {
            m.on_packet(i as u64 * 10_000, &Packet { hear: false, session: 1, seq: i + 1 });
            assert_eq!(m.on_tick(i as u64 * 10_000 + 5_000, &T), None);
        }
    }

    #[test]
    fn property_random_loss_below_dead_never_flaps_and_silence_always_downs() {
        let mut rng = Rng::seeded(42);
        for _ in 0..300 {
            // Lose at most one packet in a row (dead is 3 intervals): no flap, ever.
            let pattern: Vec<bool> = {
                let mut v = vec![];
                let mut prev = true;
                for _ in 0..200 {
                    let keep = !prev || rng.next() % 3 != 0;
                    v.push(keep);
                    prev = keep;
                }
                v[0] = true;
                v[1] = true;
                v[2] = true;
                v
            };
            let ev = drive(200, |i| pattern[i as usize]);
            assert_eq!(ev, vec![(2, Verdict::Up)]);
            // Silence of 4 intervals or more: down, reported within dead + one interval.
            let cut = 20 + (rng.next() % 100) as u32;
            let ev = drive(200, |i| pattern[i as usize] && !(cut..cut + 4).contains(&i));
            assert!(ev.contains(&(2, Verdict::Up)));
            let down = ev.iter().find(|e| e.1 == Verdict::Down).expect("down").0;
            assert!(down >= cut && down <= cut + 4, "cut {} down {} ev {:?}", cut, down, ev);
        }
    }
}
