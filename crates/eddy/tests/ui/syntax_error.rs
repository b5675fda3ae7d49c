// A syntax error in the body: the attribute's error points at it and says
// to fix it (not that the attribute goes on an `async fn`, which it does),
// and `main` draws no extra "main is not allowed to be async" error.
#[eddy::test]
async fn broken() {
    let x = ;
}

#[eddy::main]
async fn main() {
    let y = 1 +;
}
