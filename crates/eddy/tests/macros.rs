//! `#[eddy::main]` / `#[eddy::test]`: they run, and misuse fails to compile
//! with a message that says what to write.

#[eddy::test]
async fn test_attribute_runs_the_body() {
    let t = eddy::spawn(async { 40 + 2 });
    assert_eq!(t.await.unwrap(), 42);
}

#[eddy::test(debug = true, slow_poll_ms = 500)]
async fn options_are_accepted() {
    eddy::yield_now().await;
}

#[eddy::test]
async fn tests_can_return_results() -> Result<(), String> {
    let v = eddy::spawn(async { 1 }).await.map_err(|e| e.to_string())?;
    assert_eq!(v, 1);
    Ok(())
}

#[test]
fn misuse_is_a_compile_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
