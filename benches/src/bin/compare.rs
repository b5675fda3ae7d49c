//! Prints one line per workload: `workload=NAME eddy_ns=N tokio_ns=N ratio=R`.
//!
//! Usage: `cargo run --release -p eddy-benches --bin compare -- [--quick] [FILTER...]`.
//! With filters, only workloads whose name contains one of them run.

fn main() {
    let mut quick = false;
    let mut filters = Vec::new();
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Child mode for the memory workload (see benches/src/core.rs).
    if args.first().map(String::as_str) == Some("--task-bytes") {
        let runtime = args.get(1).map(String::as_str).unwrap_or("eddy");
        println!("{}", eddy_benches::core::task_bytes_in_process(runtime));
        return;
    }
    for arg in args {
        match arg.as_str() {
            "--quick" => quick = true,
            "-h" | "--help" => {
                println!("compare [--quick] [FILTER...]: eddy vs tokio, one line per workload");
                return;
            }
            other => filters.push(other.to_string()),
        }
    }
    for w in eddy_benches::all_workloads() {
        if !filters.is_empty() && !filters.iter().any(|f| w.name.contains(f.as_str())) {
            continue;
        }
        match (w.run)(quick) {
            Some((eddy, tokio)) => println!("{}", eddy_benches::line(w.name, eddy, tokio)),
            None => println!("workload={} skipped (see its module for why)", w.name),
        }
    }
}
