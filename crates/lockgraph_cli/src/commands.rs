//! One function per subcommand.

use crate::args::{Cli, Command};
use crate::output::print;
use anyhow::Context;
use lockgraph_core::Engine;

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
    let engine = script_engine(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let server = if lockgraph_mysql::is_mysql_url(url) {
        Engine::Mysql
    } else {
        Engine::Postgres
    };
    if engine != server {
        anyhow::bail!(
            "{}: the script is written for {engine} (`-- engine: {}`), but --url is a {server} \
             connection string; give {}",
            file.display(),
            engine.name(),
            match engine {
                Engine::Mysql => "a mysql:// or mariadb:// URL",
                _ => "a postgres:// URL or a libpq connection string",
            }
        );
    }
    let (outcome, error) = match engine {
        Engine::Mysql => {
            let script = lockgraph_mysql::parse_script(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let outcome =
                lockgraph_mysql::run_repro(url, &script, &lockgraph_mysql::ReproOptions::default())
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            (outcome, "error 1213 (SQLSTATE 40001)")
        }
        _ => {
            let script = lockgraph_pg::parse_script(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let spec: lockgraph_pg::ConnectionSpec =
                url.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let outcome = lockgraph_pg::run_repro_blocking(
                &spec,
                &script,
                &lockgraph_pg::ReproOptions::default(),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            (outcome, "SQLSTATE 40P01")
        }
    };
    match &outcome.deadlock {
        Some(d) => {
            print(&format!(
                "deadlock reproduced: session {} got {error} at step {}\n  {}\n",
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

/// The engine a reproduction script is written for (`lockgraph_core::script_engine`), when
/// lockgraph has a runner for it.
fn script_engine(text: &str) -> anyhow::Result<Engine> {
    match lockgraph_core::script_engine(text) {
        Ok(e @ (Engine::Postgres | Engine::Mysql)) => Ok(e),
        Ok(other) => anyhow::bail!("lockgraph cannot run {other} scripts"),
        Err(e) => anyhow::bail!("line {}: {} in `-- engine:`", e.line, e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_name_their_engine() {
        let e = |t: &str| script_engine(t).map_err(|e| e.to_string());
        assert_eq!(e("-- x\n-- engine: mysql\n-- [setup]\n"), Ok(Engine::Mysql));
        assert_eq!(e("-- engine: postgres\n"), Ok(Engine::Postgres));
        // Older scripts have no engine line; a step's comment never names one.
        assert_eq!(e("-- [steps]\n-- engine: mysql\n"), Ok(Engine::Postgres));
        assert_eq!(e("SELECT 1;\n-- engine: mysql\n"), Ok(Engine::Postgres));
        assert!(
            e("-- engine: sqlite\n")
                .unwrap_err()
                .contains("cannot run SQLite")
        );
        assert!(
            e("-- engine: db2\n")
                .unwrap_err()
                .contains("unknown engine `db2`")
        );
    }
}
