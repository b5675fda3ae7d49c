// #[eddy::main] on a function not named `main` in a file that has its own
// `main`: one error, saying where the attribute goes (no second error about
// `main` being defined twice, and `serve` is still there for `main`).
#[eddy::main]
async fn serve() {}

fn main() {
    let _ = serve();
}
