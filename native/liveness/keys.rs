//! The keys of one authenticated link across key rolls (a new mTLS session gives a new key).
//!
//! The two ends install a new key at slightly different moments, and sessions may be replaced
//! several times in a row, so: the previous keys (at most three) stay accepted for
//! `ACCEPT_US`; and a link that is up keeps *sending* with the key it was sending until it hears
//! the peer use the current key, or `SEND_US` passed. Time is in microseconds, passed in.

pub const ACCEPT_US: u64 = 10_000_000;
pub const SEND_US: u64 = 2_000_000;
const MAX_OLD: usize = 3;

pub struct Keys {
    current: Vec<u8>,
    old: Vec<(Vec<u8>, u64)>,
    send: Option<(Vec<u8>, u64)>,
}

impl Keys {
    pub fn new(key: Vec<u8>) -> Keys {
        Keys { current: key, old: Vec::new(), send: None }
    }

    /// Installs a new key; `up`: the link is up, so keep sending the key in use for a while.
    pub fn roll(&mut self, key: Vec<u8>, now: u64, up: bool) {
        if key == self.current {
            return;
        }
        let sending = self.sending(now).to_vec();
        let old = std::mem::replace(&mut self.current, key);
        self.old.retain(|(k, until)| *k != old && *k != self.current && now < *until);
        self.old.insert(0, (old, now + ACCEPT_US));
        self.old.truncate(MAX_OLD);
        self.send =
            if up && sending != self.current { Some((sending, now + SEND_US)) } else { None };
    }

    pub fn current(&self) -> &[u8] {
        &self.current
    }

    /// Previous keys still accepted (newest first).
    pub fn old(&self, now: u64) -> Vec<&[u8]> {
        self.old.iter().filter(|(_, until)| now < *until).map(|(k, _)| k.as_slice()).collect()
    }

    /// The key our hellos carry now.
    pub fn sending(&self, now: u64) -> &[u8] {
        match &self.send {
            Some((k, until)) if now < *until => k,
            _ => &self.current,
        }
    }

    /// The peer was heard with the current key: it has it, send with it too.
    pub fn heard_current(&mut self) {
        self.send = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_roll_on_an_up_link_keeps_sending_the_old_key_until_the_peer_uses_the_new_one() {
        let mut k = Keys::new(vec![1]);
        k.roll(vec![2], 0, true);
        assert_eq!(k.sending(10), &[1]);
        assert_eq!(k.old(10), vec![&[1][..]]);
        k.heard_current();
        assert_eq!(k.sending(20), &[2]);
    }

    #[test]
    fn the_old_key_is_sent_at_most_send_us_and_accepted_at_most_accept_us() {
        let mut k = Keys::new(vec![1]);
        k.roll(vec![2], 0, true);
        assert_eq!(k.sending(SEND_US - 1), &[1]);
        assert_eq!(k.sending(SEND_US), &[2]);
        assert_eq!(k.old(ACCEPT_US - 1).len(), 1);
        assert!(k.old(ACCEPT_US).is_empty());
    }

    #[test]
    fn a_down_link_switches_at_once() {
        let mut k = Keys::new(vec![1]);
        k.roll(vec![2], 0, false);
        assert_eq!(k.sending(1), &[2]);
    }

    #[test]
    fn rapid_rolls_keep_sending_the_key_in_use_and_accept_the_last_three() {
        let mut k = Keys::new(vec![1]);
        k.roll(vec![2], 0, true);
        k.roll(vec![3], 10, true);
        k.roll(vec![4], 20, true);
        k.roll(vec![5], 30, true);
        assert_eq!(k.sending(40), &[1]);
        assert_eq!(k.current(), &[5]);
        assert_eq!(k.old(40), vec![&[4][..], &[3][..], &[2][..]]);
        // Back to a previous key: not listed twice.
        k.roll(vec![4], 50, true);
        assert_eq!(k.old(60), vec![&[5][..], &[3][..], &[2][..]]);
    }
}
