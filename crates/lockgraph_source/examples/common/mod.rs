//! What every `gen_<lang>` generator shares: repeating the generator's app until the tree has
//! the lines asked for, and the command line (`<out-dir> [lines]`) that writes the tree to a
//! directory and counts its lines. Included by each generator with `#[path]` (a subdirectory,
//! so cargo does not take it for an example of its own).

/// The files of apps 0, 1, 2, … from `app_files` (display path, text), until they hold at
/// least `lines` lines; whole apps only.
pub fn generate(
    lines: usize,
    app_files: fn(usize) -> Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut total = 0;
    let mut app = 0;
    while total < lines {
        for (name, text) in app_files(app) {
            total += text.lines().count();
            out.push((name, text));
        }
        app += 1;
    }
    out
}

/// The command line: the first argument (the output directory, or a flag the caller handles)
/// and the line count (default 500,000); prints `usage: <usage>` and exits 2 without one.
pub fn args(usage: &str) -> (String, usize) {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: {usage}");
        std::process::exit(2);
    };
    let lines: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(500_000);
    (dir, lines)
}

/// Writes `files` below `dir` (creating directories) and prints how many files and lines it
/// wrote; on an I/O error prints the path and the error and exits 2.
pub fn write_tree(dir: &str, files: &[(String, String)]) {
    let mut written = 0;
    for (name, text) in files {
        let path = std::path::Path::new(dir).join(name);
        if let Some(parent) = path.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            eprintln!("{}: {e}", parent.display());
            std::process::exit(2);
        }
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("{}: {e}", path.display());
            std::process::exit(2);
        }
        written += text.lines().count();
    }
    println!("wrote {} files, {written} lines to {dir}", files.len());
}

/// A generator's whole `main`: `<name> <out-dir> [lines]` writes `generate(lines)` to the
/// directory.
pub fn main(name: &str, generate: fn(usize) -> Vec<(String, String)>) {
    let (dir, lines) = args(&format!("{name} <out-dir> [lines]"));
    write_tree(&dir, &generate(lines));
}
