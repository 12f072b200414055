//! The agent → helper command language, one command per line on stdin:
//!
//! ```text
//! link <peer-ipv4> <local-ipv4> <iface> <key-hex|none> [proto=N]
//!                                                           add or replace a monitored link
//! key <peer-ipv4> <key-hex>                                 roll an authenticated link's key
//! unlink <peer-ipv4>                                        stop monitoring a link
//! stats                                                     print counters as one JSON line
//! ```
//!
//! Keys are 16 to 64 bytes of hex; `none` makes the link unauthenticated (marked as such in
//! `linked`). With `proto=N` the helper itself removes the kernel routes of protocol N through
//! the link's interface the moment it declares the neighbour down (`ip route flush dev <iface>
//! proto N`): the routes pre-installed through other interfaces take over in the data plane
//! without waiting for the agent. Anything else is answered with `error <reason>` and changes nothing.

use crate::sha256::from_hex;
use std::net::Ipv4Addr;

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Link {
        peer: Ipv4Addr,
        local: Ipv4Addr,
        iface: String,
        key: Option<Vec<u8>>,
        flush_proto: Option<u8>,
    },
    Key {
        peer: Ipv4Addr,
        key: Vec<u8>,
    },
    Unlink {
        peer: Ipv4Addr,
    },
    Stats,
}

/// Longest command line accepted (longer ones are discarded as a whole).
pub const MAX_LINE: usize = 512;

fn addr(s: Option<&str>, what: &str) -> Result<Ipv4Addr, String> {
    let s = s.ok_or_else(|| format!("missing {}", what))?;
    s.parse::<Ipv4Addr>().map_err(|_| format!("invalid {}: not an IPv4 address", what))
}

fn key(s: Option<&str>) -> Result<Vec<u8>, String> {
    let s = s.ok_or("missing key")?;
    match from_hex(s) {
        Some(k) if (16..=64).contains(&k.len()) => Ok(k),
        _ => Err("invalid key: 32 to 128 hex digits".into()),
    }
}

fn iface(s: Option<&str>) -> Result<String, String> {
    let s = s.ok_or("missing interface")?;
    let ok = !s.is_empty()
        && s.len() <= 15
        && s != "."
        && s != ".."
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"_.:@-".contains(&c));
    if ok {
        Ok(s.to_string())
    } else {
        Err("invalid interface: 1-15 characters of letters, digits, '_', '.', ':', '@', '-'".into())
    }
}

/// Parses one command line (without its newline).
pub fn parse(line: &str) -> Result<Command, String> {
    let mut t = line.split(' ');
    let cmd = match t.next().unwrap_or("") {
        "link" => {
            let peer = addr(t.next(), "peer")?;
            let local = addr(t.next(), "local address")?;
            let iface = iface(t.next())?;
            let key = match t.next() {
                Some("none") => None,
                k => Some(key(k)?),
            };
            let flush_proto = match t.next() {
                None => None,
                Some(p) => match p.strip_prefix("proto=").and_then(|n| n.parse::<u8>().ok()) {
                    Some(n) if n > 0 => Some(n),
                    _ => return Err("invalid proto: proto=1..255".into()),
                },
            };
            if peer == local {
                return Err("invalid link: peer and local address are equal".into());
            }
            Command::Link { peer, local, iface, key, flush_proto }
        }
        "key" => Command::Key { peer: addr(t.next(), "peer")?, key: key(t.next())? },
        "unlink" => Command::Unlink { peer: addr(t.next(), "peer")? },
        "stats" => Command::Stats,
        "" => return Err("empty command".into()),
        _ => return Err("unknown command".into()),
    };
    if t.next().is_some() {
        return Err("too many arguments".into());
    }
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn parses_every_command() {
        let k = "ab".repeat(32);
        assert_eq!(
            parse(&format!("link 10.0.0.1 10.0.0.0 to-r2 {}", k)),
            Ok(Command::Link {
                peer: "10.0.0.1".parse().unwrap(),
                local: "10.0.0.0".parse().unwrap(),
                iface: "to-r2".into(),
                key: Some(vec![0xab; 32]),
                flush_proto: None,
            })
        );
        assert!(matches!(
            parse("link 10.0.0.1 10.0.0.0 eth0 none"),
            Ok(Command::Link { key: None, flush_proto: None, .. })
        ));
        assert!(matches!(
            parse("link 10.0.0.1 10.0.0.0 eth0 none proto=99"),
            Ok(Command::Link { flush_proto: Some(99), .. })
        ));
        assert!(matches!(parse(&format!("key 10.0.0.1 {}", k)), Ok(Command::Key { .. })));
        assert!(matches!(parse("unlink 10.0.0.1"), Ok(Command::Unlink { .. })));
        assert_eq!(parse("stats"), Ok(Command::Stats));
    }

    #[test]
    fn rejects_bad_commands() {
        for bad in [
            "",
            "link",
            "link 10.0.0.1 10.0.0.0 eth0",
            "link 10.0.0.1 10.0.0.1 eth0 none",
            "link 10.0.0.256 10.0.0.0 eth0 none",
            "link 10.0.0.1 10.0.0.0 a/b none",
            "link 10.0.0.1 10.0.0.0 sixteen-chars-xx none",
            "link 10.0.0.1 10.0.0.0 eth0 abcd",
            "link 10.0.0.1 10.0.0.0 eth0 none extra",
            "link 10.0.0.1 10.0.0.0 eth0 none proto=0",
            "link 10.0.0.1 10.0.0.0 eth0 none proto=256",
            "link 10.0.0.1 10.0.0.0 eth0 none proto=99 extra",
            "key 10.0.0.1 zz",
            "unlink",
            "stats now",
            "LINK 10.0.0.1 10.0.0.0 eth0 none",
            " stats",
        ] {
            assert!(parse(bad).is_err(), "accepted {:?}", bad);
        }
    }

    #[test]
    fn fuzz_never_panics() {
        let mut rng = Rng::seeded(7);
        let alphabet = b"link key unlink stats none 0123456789abcdef.: -to\x00\xff";
        for _ in 0..100_000 {
            let len = (rng.next() % 80) as usize;
            let bytes: Vec<u8> =
                (0..len).map(|_| alphabet[(rng.next() as usize) % alphabet.len()]).collect();
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }
    }
}
