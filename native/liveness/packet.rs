//! Wire format of a liveness packet (UDP payload, network byte order):
//!
//! ```text
//! 0      4    5      6        8          12     16            32
//! | X0LV | v1 | flags| 0 0    | session  | seq  | tag (16, iff flags.AUTH) |
//! ```
//!
//! `flags`: bit 0 AUTH (a 16-byte truncated HMAC-SHA-256 tag follows), bit 1 HEAR (the sender
//! heard us within its dead interval). Other bits and the reserved bytes must be zero. The tag
//! covers the 16-byte header followed by the sender's and the receiver's IPv4 addresses, so a
//! packet reflected back to its sender does not verify. `session` is random per helper start;
//! `seq` increases by one per packet within a session.

use crate::sha256::{ct_eq, hmac_sha256};
use std::net::Ipv4Addr;

pub const MAGIC: &[u8; 4] = b"X0LV";
pub const VERSION: u8 = 1;
pub const FLAG_AUTH: u8 = 1;
pub const FLAG_HEAR: u8 = 2;
pub const HEADER_LEN: usize = 16;
pub const TAG_LEN: usize = 16;

/// A decoded packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    pub hear: bool,
    pub session: u32,
    pub seq: u32,
}

/// Why a packet was rejected (each one is a counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    Length,
    Magic,
    Version,
    Flags,
    /// Authenticated packet where the link expects none, or the reverse.
    Mode,
    Auth,
}

impl Reject {
    pub const ALL: [Reject; 6] =
        [Reject::Length, Reject::Magic, Reject::Version, Reject::Flags, Reject::Mode, Reject::Auth];

    pub fn name(self) -> &'static str {
        match self {
            Reject::Length => "length",
            Reject::Magic => "magic",
            Reject::Version => "version",
            Reject::Flags => "flags",
            Reject::Mode => "mode",
            Reject::Auth => "auth",
        }
    }
}

fn tag(key: &[u8], header: &[u8], from: Ipv4Addr, to: Ipv4Addr) -> [u8; 32] {
    hmac_sha256(key, &[header, &from.octets(), &to.octets()])
}

/// Encodes a packet from `from` to `to`; with a key it is authenticated.
pub fn encode(p: &Packet, key: Option<&[u8]>, from: Ipv4Addr, to: Ipv4Addr) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + TAG_LEN);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    let mut flags = 0;
    if key.is_some() {
        flags |= FLAG_AUTH;
    }
    if p.hear {
        flags |= FLAG_HEAR;
    }
    out.push(flags);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&p.session.to_be_bytes());
    out.extend_from_slice(&p.seq.to_be_bytes());
    if let Some(k) = key {
        let t = tag(k, &out, from, to);
        out.extend_from_slice(&t[..TAG_LEN]);
    }
    out
}

/// Strictly decodes a packet received from `from` on `to`. `keys` are the keys the link accepts
/// (empty: the link is unauthenticated and accepts only unauthenticated packets).
pub fn decode(buf: &[u8], keys: &[&[u8]], from: Ipv4Addr, to: Ipv4Addr) -> Result<Packet, Reject> {
    if buf.len() != HEADER_LEN && buf.len() != HEADER_LEN + TAG_LEN {
        return Err(Reject::Length);
    }
    if &buf[0..4] != MAGIC {
        return Err(Reject::Magic);
    }
    if buf[4] != VERSION {
        return Err(Reject::Version);
    }
    let flags = buf[5];
    if flags & !(FLAG_AUTH | FLAG_HEAR) != 0 || buf[6] != 0 || buf[7] != 0 {
        return Err(Reject::Flags);
    }
    let authed = flags & FLAG_AUTH != 0;
    if authed != (buf.len() == HEADER_LEN + TAG_LEN) {
        return Err(Reject::Length);
    }
    if authed != !keys.is_empty() {
        return Err(Reject::Mode);
    }
    if authed {
        let header = &buf[..HEADER_LEN];
        let got = &buf[HEADER_LEN..];
        if !keys.iter().any(|k| ct_eq(&tag(k, header, from, to)[..TAG_LEN], got)) {
            return Err(Reject::Auth);
        }
    }
    Ok(Packet {
        hear: flags & FLAG_HEAR != 0,
        session: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
        seq: u32::from_be_bytes([buf[12], buf[13], buf[14], buf[15]]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    #[test]
    fn round_trips_with_and_without_key() {
        let p = Packet { hear: true, session: 0xdeadbeef, seq: 7 };
        let key = [9u8; 32];
        assert_eq!(decode(&encode(&p, None, A, B), &[], A, B), Ok(p));
        assert_eq!(decode(&encode(&p, Some(&key), A, B), &[&key], A, B), Ok(p));
        let q = Packet { hear: false, ..p };
        assert_eq!(decode(&encode(&q, Some(&key), A, B), &[&[1u8; 32], &key], A, B), Ok(q));
    }

    #[test]
    fn rejects_wrong_key_reflection_and_mode_mismatch() {
        let p = Packet { hear: true, session: 1, seq: 2 };
        let key = [9u8; 32];
        let wire = encode(&p, Some(&key), A, B);
        assert_eq!(decode(&wire, &[&[8u8; 32]], A, B), Err(Reject::Auth));
        // Reflected back to its sender: addresses swap, the tag no longer verifies.
        assert_eq!(decode(&wire, &[&key], B, A), Err(Reject::Auth));
        assert_eq!(decode(&wire, &[], A, B), Err(Reject::Mode));
        assert_eq!(decode(&encode(&p, None, A, B), &[&key], A, B), Err(Reject::Mode));
    }

    #[test]
    fn every_single_bit_flip_of_an_authenticated_packet_is_rejected() {
        let key = [3u8; 32];
        let wire = encode(&Packet { hear: true, session: 5, seq: 6 }, Some(&key), A, B);
        for i in 0..wire.len() * 8 {
            let mut w = wire.clone();
            w[i / 8] ^= 1 << (i % 8);
            assert!(decode(&w, &[&key], A, B).is_err(), "bit {} accepted", i);
        }
    }

    #[test]
    fn rejects_each_malformed_field() {
        let good = encode(&Packet { hear: false, session: 1, seq: 1 }, None, A, B);
        let mut m = good.clone();
        m[0] = b'Y';
        assert_eq!(decode(&m, &[], A, B), Err(Reject::Magic));
        let mut m = good.clone();
        m[4] = 2;
        assert_eq!(decode(&m, &[], A, B), Err(Reject::Version));
        let mut m = good.clone();
        m[5] = 4;
        assert_eq!(decode(&m, &[], A, B), Err(Reject::Flags));
        let mut m = good.clone();
        m[7] = 1;
        assert_eq!(decode(&m, &[], A, B), Err(Reject::Flags));
        let mut m = good.clone();
        m[5] = FLAG_AUTH;
        assert_eq!(decode(&m, &[], A, B), Err(Reject::Length));
        assert_eq!(decode(&good[..15], &[], A, B), Err(Reject::Length));
        assert_eq!(decode(&[], &[], A, B), Err(Reject::Length));
    }

    #[test]
    fn fuzz_random_and_mutated_input_never_panics_and_never_verifies() {
        let mut rng = Rng::seeded(0x5eed);
        let key = [7u8; 32];
        let valid = encode(&Packet { hear: true, session: 9, seq: 9 }, Some(&key), A, B);
        let mut accepted = 0;
        for i in 0..200_000 {
            let len = (rng.next() % 48) as usize;
            let mut buf: Vec<u8> = if i % 2 == 0 {
                (0..len).map(|_| rng.next() as u8).collect()
            } else {
                let mut v = valid.clone();
                for _ in 0..1 + rng.next() % 4 {
                    let j = (rng.next() as usize) % v.len();
                    v[j] = rng.next() as u8;
                }
                v
            };
            if i % 7 == 0 {
                buf.truncate((rng.next() as usize) % (buf.len() + 1));
            }
            if decode(&buf, &[&key], A, B).is_ok() {
                accepted += 1;
                assert_eq!(buf, valid, "a packet other than the valid one verified");
            }
            let _ = decode(&buf, &[], A, B);
        }
        // Mutations that restore a byte to its own value give the valid packet back.
        assert!(accepted < 5000);
    }
}
