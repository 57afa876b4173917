//! `lockgraph completions SHELL` and `lockgraph man [--out DIR]`: shell completion scripts and man
//! pages generated from the clap definitions in [`crate::args`], so they never drift from the CLI.
//!
//! Man pages: one for `lockgraph` and one per subcommand (`lockgraph-check.1`, …), with an
//! EXIT STATUS section on the pages of commands whose exit code follows `--fail-on`.

use crate::args::Cli;
use crate::output::print;
use anyhow::Context;
use clap::CommandFactory;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Options of `lockgraph completions`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = COMPLETIONS_HELP)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

const COMPLETIONS_HELP: &str = "\
Install (one of):
  lockgraph completions bash > ~/.local/share/bash-completion/completions/lockgraph
  lockgraph completions zsh > ~/.zfunc/_lockgraph        # with fpath+=(~/.zfunc) in ~/.zshrc
  lockgraph completions fish > ~/.config/fish/completions/lockgraph.fish
  lockgraph completions powershell >> $PROFILE
  lockgraph completions elvish >> ~/.config/elvish/rc.elv";

/// Options of `lockgraph man`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = MAN_HELP)]
pub struct ManArgs {
    /// Write `lockgraph.1` and one page per subcommand (`lockgraph-check.1`, …) into this
    /// directory (created if missing) instead of printing `lockgraph.1` to stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

const MAN_HELP: &str = "\
Examples:
  lockgraph man | man -l -
  lockgraph man --out /usr/local/share/man/man1";

/// The pages that get an EXIT STATUS section: the top-level page and the commands whose exit
/// code follows `--fail-on`.
const EXIT_STATUS_PAGES: &[&str] = &["lockgraph", "lockgraph-check", "lockgraph-logs"];

/// EXIT STATUS in roff (constant text: nothing to escape but the hyphens).
const EXIT_STATUS_ROFF: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
No finding at or above \fB\-\-fail\-on\fR (default \fBerror\fR).
.TP
\fB1\fR
Findings at or above \fB\-\-fail\-on\fR were reported.
.TP
\fB2\fR
Input or tool error: an unreadable file, an unknown rule, bad arguments.
.SH "SEE ALSO"
Rules: \fBlockgraph rules\fR, \fBlockgraph rule\fR \fICODE\fR.
CI integration (GitHub Actions, GitLab CI, pre\-commit): docs/ci.md in the lockgraph repository.
"#;

/// `lockgraph completions SHELL`: the script on stdout.
pub fn run_completions(args: &CompletionsArgs) -> anyhow::Result<u8> {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, name, &mut script);
    print(&String::from_utf8_lossy(&script))?;
    Ok(0)
}

/// `lockgraph man [--out DIR]`: `lockgraph.1` on stdout, or every page written into DIR (the
/// paths written are listed on stdout).
pub fn run_man(args: &ManArgs) -> anyhow::Result<u8> {
    let pages = man_pages()?;
    match &args.out {
        None => {
            let (_, top) = pages.first().context("no man page rendered")?;
            print(&String::from_utf8_lossy(top))?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let mut listing = String::new();
            for (file, roff) in &pages {
                let path = dir.join(file);
                write_file(&path, roff)?;
                listing.push_str(&format!("{}\n", path.display()));
            }
            print(&listing)?;
        }
    }
    Ok(0)
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Every man page as `(file name, roff)`, `lockgraph.1` first, then subcommands depth-first in
/// definition order.
fn man_pages() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // NAME reads `lockgraph \- <about>`: do not say "lockgraph" twice.
    let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
    if let Some(rest) = about.strip_prefix("lockgraph: ") {
        cmd = cmd.about(rest.to_string());
    }
    cmd.build();
    let mut pages = Vec::new();
    collect_pages(cmd, &mut pages)?;
    Ok(pages)
}

fn collect_pages(cmd: clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> anyhow::Result<()> {
    let subcommands: Vec<clap::Command> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let man = clap_mangen::Man::new(cmd)
        .source(concat!("lockgraph ", env!("CARGO_PKG_VERSION")))
        .manual("lockgraph manual");
    let file = man.get_filename();
    let mut roff = Vec::new();
    man.render(&mut roff).context("cannot render man page")?;
    let page = file.strip_suffix(".1").unwrap_or(&file);
    if EXIT_STATUS_PAGES.contains(&page) {
        roff.extend_from_slice(EXIT_STATUS_ROFF.as_bytes());
    }
    pages.push((file, roff));
    for sub in subcommands {
        collect_pages(sub, pages)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_page_per_command_with_exit_status_where_it_applies() {
        let pages = man_pages().unwrap();
        let names: Vec<&str> = pages.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(names[0], "lockgraph.1");
        for sub in ["lockgraph-check.1", "lockgraph-logs.1", "lockgraph-man.1"] {
            assert!(names.contains(&sub), "{sub} missing from {names:?}");
        }
        for (file, roff) in &pages {
            let text = String::from_utf8_lossy(roff);
            assert!(text.contains("\n.TH "), "{file}: {text}");
            let has_exit = text.contains(".SH \"EXIT STATUS\"");
            let wants_exit = EXIT_STATUS_PAGES.contains(&file.trim_end_matches(".1"));
            assert_eq!(has_exit, wants_exit, "{file}");
        }
    }
}
