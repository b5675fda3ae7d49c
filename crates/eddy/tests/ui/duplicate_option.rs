#[eddy::test(start_paused = true, start_paused = false)]
async fn paused_twice() {}

fn main() {}
