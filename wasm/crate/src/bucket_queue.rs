//! Bucket queue for Dijkstra when arc weights are positive and span a small range (Dial's
//! algorithm with buckets as wide as the smallest weight). A node popped from bucket b has a
//! key below (b + 1) * delta, and anything it relaxes gets at least key + delta, so nodes of one
//! bucket cannot improve each other: any order inside a bucket is exact. Keys live in a window
//! of max weight / delta + 2 buckets, used as a ring. Push and pop are O(1).

use crate::radix_heap::RadixHeap;

/// Use buckets only when the ring stays small.
pub const MAX_RING: usize = 4096;

pub struct BucketQueue {
    delta: f64,
    current: usize,
    len: usize,
    ring: Vec<Vec<(f64, u32)>>,
}

impl BucketQueue {
    pub fn new() -> BucketQueue {
        BucketQueue {
            delta: 1.0,
            current: 0,
            len: 0,
            ring: Vec::new(),
        }
    }

    /// Empties the queue for weights in [min_w, max_w] (min_w > 0, ring <= MAX_RING).
    pub fn reset(&mut self, min_w: f64, max_w: f64) {
        self.delta = min_w;
        self.current = 0;
        self.len = 0;
        let size = (max_w / min_w) as usize + 2;
        for b in self.ring.iter_mut() {
            b.clear();
        }
        if self.ring.len() < size {
            self.ring.resize_with(size, Vec::new);
        }
        self.ring.truncate(size);
    }

    #[inline]
    pub fn push(&mut self, key: f64, item: u32) {
        let mut b = (key / self.delta) as usize;
        if b < self.current {
            b = self.current; // float rounding only
        }
        let slot = b % self.ring.len();
        self.len += 1;
        unsafe { self.ring.get_unchecked_mut(slot) }.push((key, item));
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(f64, u32)> {
        if self.len == 0 {
            return None;
        }
        let r = self.ring.len();
        loop {
            let slot = self.current % r;
            if let Some(e) = unsafe { self.ring.get_unchecked_mut(slot) }.pop() {
                self.len -= 1;
                return Some(e);
            }
            self.current += 1;
        }
    }
}

/// The two queues Dijkstra chooses from, per graph.
pub struct Queues {
    pub radix: RadixHeap,
    pub buckets: BucketQueue,
}

impl Queues {
    pub fn new() -> Queues {
        Queues {
            radix: RadixHeap::new(),
            buckets: BucketQueue::new(),
        }
    }
}
