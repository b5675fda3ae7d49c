// Each option error names the option as written and points at it (not
// at the whole attribute).
#[eddy::test(start_paused)]
async fn flag_without_value() {}

#[eddy::test(debug(true))]
async fn call_syntax() {}

#[eddy::test(runtime::flavor = 1)]
async fn path_option() {}

#[eddy::test(fast)]
async fn unknown_flag() {}

fn main() {}
