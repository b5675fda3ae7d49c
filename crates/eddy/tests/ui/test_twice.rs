// `#[test]` next to `#[eddy::test]` would register the test twice (it
// ran twice): #[eddy::test] already adds the `#[test]`.
#[eddy::test]
#[test]
async fn registered_twice() {}

#[eddy::test]
#[::core::prelude::v1::test]
async fn registered_twice_by_path() {}

fn main() {}
