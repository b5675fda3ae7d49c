//! [`Touchy`]: a `PriorityQueue` item whose `Ord` panics on demand.

use std::cmp::Ordering as CmpOrdering;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A `PriorityQueue` item whose `Ord` panics while its shared switch is on.
#[derive(Debug)]
pub struct Touchy(pub u32, pub Arc<AtomicBool>);

impl Touchy {
    pub fn new(switch: &Arc<AtomicBool>, v: u32) -> Self {
        Touchy(v, switch.clone())
    }
}

impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Touchy {}
impl PartialOrd for Touchy {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Touchy {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        assert!(!self.1.load(Ordering::SeqCst), "this Ord panics");
        self.0.cmp(&other.0)
    }
}

/// A switch, off.
pub fn switch() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

/// Turns `switch` on (comparisons panic) or off.
pub fn set(switch: &AtomicBool, on: bool) {
    switch.store(on, Ordering::SeqCst);
}
