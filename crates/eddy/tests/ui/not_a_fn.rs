#[eddy::test]
struct NotATest;

fn main() {}
