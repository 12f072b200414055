//! x0-liveness: a BFD-like link liveness helper of the x0tta6bl4 mesh agent.
//!
//! The agent spawns it (`x0-liveness run --port P --interval MS --dead MS --up N`) and tells it
//! the links on stdin (see control.rs). Every `interval` (jittered to 90-100 %) it sends a small
//! UDP packet (packet.rs) to each neighbour and prints `up <peer>` / `down <peer>` on stdout as
//! the neighbour's verdict changes (monitor.rs): `down` the moment nothing valid was heard for
//! `dead`, `up` after `up` good intervals. It exits when stdin closes or its parent changes, so
//! it never outlives the agent. `x0-liveness sha256 HEX` and `x0-liveness hmac KEYHEX HEX` print
//! digests (cross-checked against WebCrypto by the tests).

mod control;
mod helper;
mod keys;
mod monitor;
mod packet;
mod rng;
mod sha256;
mod sys;

use helper::{Counters, Helper};
use monitor::Timers;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::io::FromRawFd;
use std::time::{Duration, Instant};

/// Writes one line to the agent (stdout); exits when the agent is gone.
pub fn say(line: &str) {
    let out = std::io::stdout();
    let mut o = out.lock();
    // The agent is gone when stdout is: exit rather than run unobserved.
    if o.write_all(line.as_bytes())
        .and_then(|_| o.write_all(b"\n"))
        .and_then(|_| o.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

fn arg(args: &[String], name: &str, def: Option<u64>) -> Result<u64, String> {
    match args.iter().position(|a| a == name) {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| format!("invalid {}: expected an integer", name)),
        None => def.ok_or_else(|| format!("missing {}", name)),
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let port = arg(args, "--port", None)?;
    let interval = arg(args, "--interval", Some(10))?;
    let dead = arg(args, "--dead", Some(30))?;
    let up = arg(args, "--up", Some(3))?;
    if !(1..=65535).contains(&port) {
        return Err("invalid --port: 1..65535".into());
    }
    if !(1..=10_000).contains(&interval) || dead < 2 * interval || dead > 600_000 {
        return Err("invalid timers: --interval 1..10000 ms, --dead >= 2 intervals".into());
    }
    if !(1..=100).contains(&up) {
        return Err("invalid --up: 1..100".into());
    }
    if args.iter().any(|a| a == "--realtime") {
        match sys::set_realtime(10) {
            Ok(()) => say("realtime SCHED_FIFO 10"),
            Err(e) => say(&format!("error realtime: {}", e)),
        }
    }
    let mut rng = rng::Rng::from_entropy();
    let mut h = Helper {
        port: port as u16,
        t: Timers { interval_us: interval * 1000, dead_us: dead * 1000, up: up as u32 },
        epoch: Instant::now(),
        next_tx: Instant::now(),
        ip: None,
        session: rng.next() as u32,
        rng,
        links: BTreeMap::new(),
        c: Counters::default(),
    };
    let parent = sys::parent_pid();
    // SAFETY: fd 0 is our stdin for the whole process lifetime; read unbuffered so the poll
    // readiness and our line buffer never disagree.
    let mut stdin = unsafe { File::from_raw_fd(0) };
    let mut pending: Vec<u8> = Vec::new();
    let mut discarding = false;
    let mut hold_until: Option<Instant> = None;
    say(&format!("ready {} {} {} {}", port, interval, dead, up));
    let mut last_parent_check = Instant::now();
    loop {
        let now = Instant::now();
        let wake = h.next_wake(now, hold_until);
        let mut fds = [sys::PollFd { fd: 0, events: sys::POLLIN, revents: 0 }];
        sys::wait(&mut fds, wake.saturating_duration_since(now));
        let woke = Instant::now();
        // Woken far too late: this process did not get the CPU. Packets that arrived meanwhile
        // are queued; read them, and judge deadlines only after half an interval more.
        if woke.saturating_duration_since(wake) > Duration::from_micros(h.t.interval_us) {
            hold_until = Some(woke + Duration::from_micros(h.t.interval_us / 2));
        }
        if fds[0].revents != 0 {
            let mut buf = [0u8; 4096];
            match stdin.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Ok(()),
            }
            while let Some(i) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=i).collect();
                if discarding {
                    discarding = false;
                    continue;
                }
                let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
                h.command(text.trim_end_matches('\r'), woke);
            }
            if pending.len() > control::MAX_LINE {
                pending.clear();
                discarding = true;
                h.c.commands_bad += 1;
                say("error line too long");
            }
        }
        h.receive(woke);
        let now = Instant::now();
        let hold = hold_until.map_or(false, |hu| now < hu);
        if !hold {
            hold_until = None;
        }
        h.bind(now);
        h.work(now, hold);
        if now >= last_parent_check + Duration::from_millis(200) {
            last_parent_check = now;
            if sys::parent_pid() != parent {
                return Ok(());
            }
        }
    }
}

fn digest(args: &[String]) -> Result<(), String> {
    let hex = |i: usize| {
        args.get(i).and_then(|s| sha256::from_hex(s)).ok_or_else(|| "expected hex".to_string())
    };
    let out = match args.first().map(|s| s.as_str()) {
        Some("sha256") => sha256::sha256(&hex(1)?),
        Some("hmac") => sha256::hmac_sha256(&hex(1)?, &[&hex(2)?]),
        _ => return Err("usage".into()),
    };
    println!("{}", sha256::to_hex(&out));
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(|s| s.as_str()) {
        Some("run") => run(&args[1..]),
        Some("sha256") | Some("hmac") => digest(&args),
        _ => Err("usage: x0-liveness run --port P [--interval MS] [--dead MS] [--up N] \
                  [--realtime] | sha256 HEX | hmac KEYHEX HEX"
            .into()),
    };
    if let Err(e) = result {
        eprintln!("x0-liveness: {}", e);
        std::process::exit(2);
    }
}
