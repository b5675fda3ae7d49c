//! Turns `compare` output into an SVG bar chart of the eddy/tokio ratios.
//!
//! ```sh
//! cargo run --release -p eddy-benches --bin compare -- --quick > compare.txt
//! cargo run --release -p eddy-benches --bin chart -- compare.txt docs/benchmarks.svg
//! ```
//!
//! One bar per `workload=NAME eddy_ns=N tokio_ns=N ratio=R` line (other lines
//! are ignored); a bar left of the 1.0 line means eddy is faster (or, for
//! size workloads, smaller). The same workload appearing twice keeps the
//! last line.

use std::fmt::Write as _;
use std::process::ExitCode;

/// One parsed `compare` line.
struct Row {
    name: String,
    ratio: f64,
}

fn parse(text: &str) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for line in text.lines() {
        let mut name = None;
        let mut ratio = None;
        for field in line.split_whitespace() {
            if let Some(v) = field.strip_prefix("workload=") {
                name = Some(v.to_string());
            } else if let Some(v) = field.strip_prefix("ratio=") {
                ratio = v.parse::<f64>().ok().filter(|r| r.is_finite());
            }
        }
        if let (Some(name), Some(ratio)) = (name, ratio) {
            rows.retain(|r| r.name != name);
            rows.push(Row { name, ratio });
        }
    }
    rows
}

fn svg(rows: &[Row]) -> String {
    const LABEL: f64 = 190.0;
    const PLOT: f64 = 420.0;
    const BAR: f64 = 18.0;
    const GAP: f64 = 6.0;
    const TOP: f64 = 40.0;
    let max = rows
        .iter()
        .map(|r| r.ratio)
        .fold(1.25_f64, f64::max)
        .min(4.0);
    let x = |ratio: f64| LABEL + PLOT * ratio.min(max) / max;
    let height = TOP + rows.len() as f64 * (BAR + GAP) + 30.0;
    let width = LABEL + PLOT + 70.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r#"<text x="{LABEL}" y="20" font-size="14">eddy / tokio time ratio (below 1.0: eddy faster)</text>"#
    );
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + i as f64 * (BAR + GAP);
        let color = if row.ratio <= 1.0 {
            "#2b8a3e"
        } else {
            "#c92a2a"
        };
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LABEL - 8.0,
            y + BAR * 0.75,
            row.name
        );
        let _ = writeln!(
            out,
            r#"<rect x="{LABEL}" y="{y:.1}" width="{:.1}" height="{BAR}" fill="{color}"/>"#,
            x(row.ratio) - LABEL
        );
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}">{:.2}</text>"#,
            x(row.ratio) + 4.0,
            y + BAR * 0.75,
            row.ratio
        );
    }
    let one = x(1.0);
    let bottom = TOP + rows.len() as f64 * (BAR + GAP);
    let _ = writeln!(
        out,
        r##"<line x1="{one:.1}" y1="{:.1}" x2="{one:.1}" y2="{bottom:.1}" stroke="#000" stroke-dasharray="4 3"/>"##,
        TOP - 6.0
    );
    let _ = writeln!(
        out,
        r#"<text x="{one:.1}" y="{:.1}" text-anchor="middle">1.0</text>"#,
        bottom + 16.0
    );
    out.push_str("</svg>\n");
    out
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: chart COMPARE_OUTPUT.txt OUT.svg");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(input) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("chart: cannot read {input}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rows = parse(&text);
    if rows.is_empty() {
        eprintln!("chart: no `workload=.. ratio=..` lines in {input}; pass compare's output");
        return ExitCode::FAILURE;
    }
    if let Err(e) = std::fs::write(output, svg(&rows)) {
        eprintln!("chart: cannot write {output}: {e}");
        return ExitCode::FAILURE;
    }
    println!("chart: {} workloads -> {output}", rows.len());
    ExitCode::SUCCESS
}
