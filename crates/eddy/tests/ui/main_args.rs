#[eddy::main]
async fn main(count: u32) {
    let _ = count;
}
