#[eddy::main(fast = true)]
async fn main() {}
