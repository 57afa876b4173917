//! Times one input of a fuzz target natively (release, no sanitizer): `timeit <target> <file>
//! [runs]`. How a slow input found by the fuzzer is measured (docs/reliability.md).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(name), Some(path)) = (args.first(), args.get(1)) else {
        eprintln!("usage: timeit <target> <input file> [runs]");
        std::process::exit(2);
    };
    let Some(target) = lockgraph_fuzz::Target::from_name(name) else {
        eprintln!("timeit: no target named {name}");
        std::process::exit(2);
    };
    let data = std::fs::read(path).expect("read the input");
    let runs: u32 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1).max(1);
    let start = std::time::Instant::now();
    for _ in 0..runs {
        target.run(&data);
    }
    println!("{:?} per run", start.elapsed() / runs);
}
