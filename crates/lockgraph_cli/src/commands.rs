//! One function per subcommand.

use crate::args::{Cli, Command};
use crate::output::print;
use anyhow::Context;

/// Runs the parsed command line; returns the exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Check(args) => crate::check::run(&args, cli.color),
        Command::Logs(args) => crate::logs::run(&args, cli.color),
        Command::Rules { markdown } => {
            if markdown {
                print(&lockgraph_rules::rules_markdown())?;
            } else {
                let mut text = String::new();
                for rule in lockgraph_rules::REGISTRY {
                    let i = rule.info();
                    text.push_str(&format!(
                        "{}  {:<26} {:<8} {}\n",
                        i.code, i.name, i.severity, i.summary
                    ));
                }
                print(&text)?;
            }
            Ok(0)
        }
        Command::Rule { code } => {
            let rule = lockgraph_rules::find_rule(&code)
                .with_context(|| format!("no rule `{code}`; `lockgraph rules` lists them"))?;
            let i = rule.info();
            print(&format!(
                "{} {} (default severity: {})\n\n{}",
                i.code,
                i.name,
                i.severity,
                lockgraph_rules::rule_doc_markdown(i)
            ))?;
            Ok(0)
        }
        Command::Repro { file, url } => repro(&file, &url),
        Command::Report(args) => crate::report_cmd::run(&args, cli.color),
        Command::Merge(args) => crate::merge::run(&args),
        Command::Live(args) => crate::live::run(&args, cli.color),
        Command::Trace(args) => crate::trace::run(&args, cli.color),
        Command::Completions(args) => crate::completions::run_completions(&args),
        Command::Man(args) => crate::completions::run_man(&args),
    }
}

fn repro(file: &std::path::Path, url: &str) -> anyhow::Result<u8> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let script = lockgraph_pg::parse_script(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let spec: lockgraph_pg::ConnectionSpec = url.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let outcome =
        lockgraph_pg::run_repro_blocking(&spec, &script, &lockgraph_pg::ReproOptions::default())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    match &outcome.deadlock {
        Some(d) => {
            print(&format!(
                "deadlock reproduced: session {} got SQLSTATE 40P01 at step {}\n  {}\n",
                d.session,
                d.step_index + 1,
                d.message
            ))?;
            Ok(1)
        }
        None => {
            print("no deadlock: every session completed\n")?;
            Ok(0)
        }
    }
}
