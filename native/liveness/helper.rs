//! The helper's state and one pass of its loop: links (socket, keys, verdict), the agent's
//! commands, reading hellos (with kernel receive times), verdicts on deadlines, sending hellos,
//! and flushing a dead link's routes.

use crate::control::{self, Command};
use crate::keys;
use crate::monitor::{Heard, Monitor, Timers, Verdict};
use crate::packet::{self, Packet, Reject};
use crate::rng;
use crate::say;
use crate::sys;
use std::collections::BTreeMap;
use std::io::{ErrorKind, Write};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::unix::io::AsRawFd;
use std::time::{Duration, Instant};

pub struct Link {
    pub local: Ipv4Addr,
    pub iface: String,
    pub sock: Option<UdpSocket>,
    pub bind_error: Option<String>,
    pub retry_at: Instant,
    /// None: an unauthenticated link.
    pub keys: Option<keys::Keys>,
    /// Kernel route protocol whose routes through `iface` are flushed on `down`.
    pub flush_proto: Option<u8>,
    pub mon: Monitor,
    pub seq: u32,
    pub badkey_at: Option<Instant>,
}

#[derive(Default)]
pub struct Counters {
    pub tx: u64,
    pub tx_err: u64,
    pub rx: u64,
    pub source: u64,
    pub replay: u64,
    pub sessions: u64,
    pub rejected: [u64; 6],
    pub commands_bad: u64,
    pub route_flushes: u64,
    pub route_flush_errors: u64,
}

pub struct Helper {
    pub port: u16,
    pub t: Timers,
    pub epoch: Instant,
    pub session: u32,
    pub rng: rng::Rng,
    pub links: BTreeMap<Ipv4Addr, Link>,
    /// A long-lived `ip -force -batch -` for route flushes on `down` (started on first use).
    pub ip: Option<std::process::Child>,
    /// One send timer for all links: one wake-up per interval however many links.
    pub next_tx: Instant,
    pub c: Counters,
}

impl Helper {
    pub fn us(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_micros() as u64
    }

    pub fn jittered(&mut self) -> Duration {
        Duration::from_micros((self.t.interval_us as f64 * (0.9 + 0.1 * self.rng.unit())) as u64)
    }

    pub fn command(&mut self, line: &str, now: Instant) {
        match control::parse(line) {
            Ok(Command::Link { peer, local, iface, key, flush_proto }) => {
                let authenticated = key.is_some();
                self.links.insert(
                    peer,
                    Link {
                        local,
                        iface,
                        sock: None,
                        bind_error: None,
                        retry_at: now,
                        keys: key.map(keys::Keys::new),
                        flush_proto,
                        mon: Monitor::default(),
                        seq: 0,
                        badkey_at: None,
                    },
                );
                let mode = if authenticated { "hmac-sha256" } else { "UNAUTHENTICATED" };
                say(&format!("linked {} {}", peer, mode));
            }
            Ok(Command::Key { peer, key }) => {
                let now_us = self.us(now);
                match self.links.get_mut(&peer) {
                    Some(l) if l.keys.is_some() => {
                        let up = l.mon.verdict == Verdict::Up;
                        l.keys.as_mut().unwrap().roll(key, now_us, up);
                        say(&format!("keyed {}", peer));
                    }
                    Some(_) => say(&format!("error key {}: link is unauthenticated", peer)),
                    None => say(&format!("error key {}: no such link", peer)),
                }
            }
            Ok(Command::Unlink { peer }) => {
                self.links.remove(&peer);
                say(&format!("unlinked {}", peer));
            }
            Ok(Command::Stats) => say(&self.stats()),
            Err(e) => {
                self.c.commands_bad += 1;
                say(&format!("error {}", e));
            }
        }
    }

    pub fn stats(&self) -> String {
        let c = &self.c;
        let rejected: Vec<String> = Reject::ALL
            .iter()
            .enumerate()
            .map(|(i, r)| format!("\"{}\":{}", r.name(), c.rejected[i]))
            .collect();
        let links: Vec<String> = self
            .links
            .iter()
            .map(|(p, l)| {
                let v = match l.mon.verdict {
                    Verdict::Unknown => "unknown",
                    Verdict::Up => "up",
                    Verdict::Down => "down",
                };
                format!(
                    "{{\"peer\":\"{}\",\"local\":\"{}\",\"iface\":\"{}\",\"verdict\":\"{}\",\"bound\":{},\"authenticated\":{}}}",
                    p, l.local, l.iface, v, l.sock.is_some(), l.keys.is_some()
                )
            })
            .collect();
        format!(
            "stats {{\"tx\":{},\"tx_errors\":{},\"rx\":{},\"rejected\":{{{},\"source\":{},\"replay\":{}}},\"peer_restarts\":{},\"bad_commands\":{},\"route_flushes\":{},\"route_flush_errors\":{},\"links\":[{}]}}",
            c.tx, c.tx_err, c.rx, rejected.join(","), c.source, c.replay, c.sessions,
            c.commands_bad, c.route_flushes, c.route_flush_errors, links.join(",")
        )
    }

    pub fn bind(&mut self, now: Instant) {
        let port = self.port;
        for (peer, l) in self.links.iter_mut() {
            if l.sock.is_some() || now < l.retry_at {
                continue;
            }
            match UdpSocket::bind(SocketAddrV4::new(l.local, port)).and_then(|s| {
                s.set_nonblocking(true)?;
                Ok(s)
            }) {
                Ok(s) => {
                    l.sock = Some(s);
                    l.bind_error = None;
                }
                Err(e) => {
                    // The address may not be configured yet, or a dying predecessor holds the
                    // port: retry, and say so once per distinct error.
                    let msg = e.to_string();
                    if l.bind_error.as_deref() != Some(&msg) {
                        say(&format!("error bind {} {}:{}: {}", peer, l.local, port, msg));
                    }
                    l.bind_error = Some(msg);
                    l.retry_at = now + Duration::from_millis(250);
                }
            }
        }
    }

    pub fn receive(&mut self, now: Instant) {
        let now_us = self.us(now);
        let mut buf = [0u8; 128];
        let port = self.port;
        for (peer, l) in self.links.iter_mut() {
            let sock = match &l.sock {
                Some(s) => s,
                None => continue,
            };
            loop {
                let (n, from) = match sock.recv_from(&mut buf) {
                    Ok(r) => r,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => break,
                };
                // Sockets are read when we wake (each send interval, or a deadline), not per
                // packet: the kernel's receive time says when the hello really arrived.
                let at_us = arrival_us(sock.as_raw_fd(), now_us);
                if from.ip() != std::net::IpAddr::V4(*peer) || from.port() != port {
                    self.c.source += 1;
                    continue;
                }
                // The current key first: hearing it tells us the peer has it.
                let wire = &buf[..n];
                let decoded = match &mut l.keys {
                    None => packet::decode(wire, &[], *peer, l.local),
                    Some(k) => match packet::decode(wire, &[k.current()], *peer, l.local) {
                        Ok(p) => {
                            k.heard_current();
                            Ok(p)
                        }
                        Err(Reject::Auth) if !k.old(now_us).is_empty() => {
                            packet::decode(wire, &k.old(now_us), *peer, l.local)
                        }
                        Err(e) => Err(e),
                    },
                };
                match decoded {
                    Ok(p) => match l.mon.on_packet(at_us, &p) {
                        Heard::Replay => self.c.replay += 1,
                        Heard::NewSession => {
                            self.c.sessions += 1;
                            self.c.rx += 1;
                        }
                        Heard::Fresh => self.c.rx += 1,
                    },
                    Err(r) => {
                        self.c.rejected[Reject::ALL.iter().position(|x| *x == r).unwrap()] += 1;
                        if r == Reject::Auth
                            && l.badkey_at.map_or(true, |t| now >= t + Duration::from_secs(1))
                        {
                            l.badkey_at = Some(now);
                            say(&format!("badkey {}", peer));
                        }
                    }
                }
            }
        }
    }

    pub fn send(&mut self, peer: Ipv4Addr, now: Instant) {
        let session = self.session;
        let t = self.t;
        let now_us = self.us(now);
        let port = self.port;
        let l = self.links.get_mut(&peer).unwrap();
        l.seq = l.seq.wrapping_add(1);
        let p = Packet { hear: l.mon.hearing(now_us, &t), session, seq: l.seq };
        let key = l.keys.as_ref().map(|k| k.sending(now_us));
        let wire = packet::encode(&p, key, l.local, peer);
        if let Some(s) = &l.sock {
            // EPERM/ENETUNREACH while a link is cut are expected: silence is the verdict's input.
            match s.send_to(&wire, SocketAddrV4::new(peer, port)) {
                Ok(_) => self.c.tx += 1,
                Err(_) => self.c.tx_err += 1,
            }
        }
    }

    /// One pass after waking: verdicts on deadlines (unless holding after a stall), then, when
    /// the send timer is due, one interval's evaluation and hello on every link.
    pub fn work(&mut self, now: Instant, hold: bool) {
        let now_us = self.us(now);
        let t = self.t;
        let peers: Vec<Ipv4Addr> = self.links.keys().copied().collect();
        if !hold {
            for peer in &peers {
                let l = self.links.get_mut(peer).unwrap();
                if l.mon.check_dead(now_us, &t).is_some() {
                    // Data plane first (the agent's own reroute follows), then tell the agent.
                    if let Some(proto) = l.flush_proto {
                        let line = format!("route flush dev {} proto {}\n", l.iface, proto);
                        self.flush_routes(&line);
                    }
                    say(&format!("down {}", peer));
                }
            }
        }
        if now < self.next_tx {
            return;
        }
        for peer in peers {
            if self.links.get_mut(&peer).unwrap().mon.on_tick(now_us, &t).is_some() {
                say(&format!("up {}", peer));
            }
            self.send(peer, now);
        }
        let step = self.jittered();
        self.next_tx += step;
        if self.next_tx <= now {
            self.next_tx = now + step;
        }
    }

    /// Hands one command to the long-lived `ip -batch` (restarted once if it died).
    pub fn flush_routes(&mut self, line: &str) {
        for _ in 0..2 {
            if self.ip.is_none() {
                self.ip = std::process::Command::new("ip")
                    .args(["-force", "-batch", "-"])
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .ok();
            }
            let ok = match self.ip.as_mut().and_then(|c| c.stdin.as_mut()) {
                Some(w) => w.write_all(line.as_bytes()).and_then(|_| w.flush()).is_ok(),
                None => false,
            };
            if ok {
                self.c.route_flushes += 1;
                return;
            }
            if let Some(mut c) = self.ip.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        self.c.route_flush_errors += 1;
        say("error route flush: cannot run ip");
    }

    pub fn next_wake(&self, now: Instant, hold_until: Option<Instant>) -> Instant {
        let mut wake = hold_until
            .unwrap_or(now + Duration::from_millis(500))
            .min(now + Duration::from_millis(500));
        if !self.links.is_empty() {
            wake = wake.min(self.next_tx);
        }
        for l in self.links.values() {
            match (hold_until, l.mon.deadline(&self.t)) {
                (None, Some(d)) => wake = wake.min(self.epoch + Duration::from_micros(d)),
                _ => {}
            }
            if l.sock.is_none() {
                wake = wake.min(l.retry_at);
            }
        }
        wake
    }
}

/// Arrival time of the datagram just read from `fd` on our clock (µs since epoch of `now_us`),
/// from the kernel's receive timestamp; `now_us` when there is none.
pub fn arrival_us(fd: i32, now_us: u64) -> u64 {
    let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    match (sys::last_packet_time(fd), wall) {
        (Some(stamp), Ok(wall)) => {
            let age = wall.saturating_sub(stamp).as_micros() as u64;
            // A stamp from the future or hours old: the clock was stepped; trust the read time.
            if age > 10_000_000 {
                now_us
            } else {
                now_us.saturating_sub(age)
            }
        }
        _ => now_us,
    }
}
