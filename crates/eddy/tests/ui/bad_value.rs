#[eddy::test(slow_poll_ms = "fast")]
async fn slow() {}

fn main() {}
