//! Review of the facade and its macros: `#[eddy::main]`/`#[eddy::test]`
//! expansions that must compile and behave like the `async fn` the user
//! wrote, and `Builder` settings that must reach the runtime.

use std::error::Error;
use std::fmt;

#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("refused")
    }
}

impl Error for Refused {}

async fn refuse(yes: bool) -> Result<u32, Refused> {
    eddy::yield_now().await;
    if yes {
        Err(Refused)
    } else {
        Ok(7)
    }
}

/// An early `return` is checked against the declared return type, as in
/// any `async fn`: `Box<Refused>` coerces to `Box<dyn Error>`.
#[eddy::test]
async fn an_early_return_coerces_to_the_declared_error_type() -> Result<(), Box<dyn Error>> {
    if refuse(false).await? != 7 {
        return Err(Box::new(Refused));
    }
    Ok(())
}

/// `?` converts into the declared error type, and a `return` of the
/// converted error reaches the caller as the test's value.
#[eddy::test]
async fn question_mark_converts_into_the_declared_error_type() -> Result<(), Box<dyn Error>> {
    let n: u32 = "12".parse()?;
    match refuse(n > 10).await {
        Err(e) => {
            assert_eq!(e.to_string(), "refused");
            return Ok(());
        }
        Ok(_) => panic!("refuse(true) must refuse"),
    }
}
