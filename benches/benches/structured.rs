//! Criterion benches: placeholder until this area lands.
fn main() {}
