#[eddy::test]
async fn needs_input(x: i32) {
    let _ = x;
}

fn main() {}
