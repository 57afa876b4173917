//! Copies a fuzz target's seeds into a corpus directory: `seed <target> <dir>`.

use lockgraph_fuzz::Target;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [name, dir] = &args[..] else {
        eprintln!("usage: seed <target> <corpus dir>");
        std::process::exit(2);
    };
    let Some(target) = Target::from_name(name) else {
        eprintln!("seed: no target named {name}");
        std::process::exit(2);
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::create_dir_all(dir).expect("create the corpus directory");
    let mut n = 0;
    for (i, path) in target.seeds(&root).iter().enumerate() {
        let bytes = std::fs::read(path).expect("read a seed");
        let input = target.seed_input(path, bytes);
        for (j, piece) in target.seed_pieces(&input).into_iter().enumerate() {
            std::fs::write(Path::new(dir).join(format!("seed-{i:04}-{j:03}")), piece)
                .expect("write");
            n += 1;
        }
    }
    println!("{name}: {n} seeds in {dir}");
}
