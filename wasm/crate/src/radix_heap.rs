//! Radix heap for Dijkstra's monotone keys. A non-negative f64 orders like its bit pattern read
//! as a u64, so keys go into 65 buckets by the highest bit in which they differ from the last
//! extracted minimum; each entry moves down at most 64 times, and pops scan no comparisons of
//! unrelated keys. Requires every pushed key >= the last popped one (true for Dijkstra with
//! non-negative weights).

pub struct RadixHeap {
    last: u64,
    len: usize,
    buckets: Vec<Vec<(u64, u32)>>,
}

#[inline]
fn bucket_of(key: u64, last: u64) -> usize {
    (64 - (key ^ last).leading_zeros()) as usize
}

impl RadixHeap {
    pub fn new() -> RadixHeap {
        RadixHeap {
            last: 0,
            len: 0,
            buckets: (0..65).map(|_| Vec::new()).collect(),
        }
    }

    pub fn clear(&mut self) {
        self.last = 0;
        self.len = 0;
        for b in self.buckets.iter_mut() {
            b.clear();
        }
    }

    #[inline]
    pub fn push(&mut self, key: f64, item: u32) {
        let k = key.to_bits();
        let i = bucket_of(k, self.last);
        self.len += 1;
        unsafe { self.buckets.get_unchecked_mut(i) }.push((k, item));
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(f64, u32)> {
        if self.len == 0 {
            return None;
        }
        if self.buckets[0].is_empty() {
            let mut i = 1;
            while unsafe { self.buckets.get_unchecked(i) }.is_empty() {
                i += 1; // len > 0 guarantees a non-empty bucket below 65
            }
            // New minimum, then every entry of bucket i lands in a lower bucket.
            let mut min = u64::MAX;
            for &(k, _) in self.buckets[i].iter() {
                if k < min {
                    min = k;
                }
            }
            self.last = min;
            let moved = core::mem::take(&mut self.buckets[i]);
            for &(k, v) in moved.iter() {
                let j = bucket_of(k, min);
                unsafe { self.buckets.get_unchecked_mut(j) }.push((k, v));
            }
            // Keep the allocation for reuse.
            let mut moved = moved;
            moved.clear();
            self.buckets[i] = moved;
        }
        self.len -= 1;
        self.buckets[0].pop().map(|(k, v)| (f64::from_bits(k), v))
    }
}
