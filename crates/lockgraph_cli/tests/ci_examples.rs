//! Packaging for pipelines, end to end with the built binary:
//!
//! - every example block of docs/ci.md marked ` ```sh ci-example` / ` ```yaml ci-example` is run:
//!   shell lines that invoke `lockgraph`, GitHub workflow steps (including `uses:` of this
//!   repository's action, emulated from action.yml), GitLab jobs' `script`, and pre-commit
//!   configurations (through .pre-commit-hooks.yaml); a `# exit N` comment next to a command is
//!   asserted, and so are the report files the pipeline uploads;
//! - action.yml and .pre-commit-hooks.yaml parse and their commands are valid invocations;
//! - `lockgraph completions SHELL` and `lockgraph man --out DIR` produce usable output.
//!
//! An example that needs a flag or format still being built elsewhere says so in its fence
//! (` ```sh ci-example requires=--baseline,--format=sarif`) and is skipped, with a note, only
//! while this build of lockgraph lacks it. An unmarked example with an unknown flag fails.
//!
//! Examples run in one scratch project per page, in page order (as a reader would run them): a
//! copy of `samples/shop` (`app/`, `migrations/`) plus `samples/logs` as `logs/`, committed to a
//! git repository whose `origin/main` is `HEAD`.

#![cfg(unix)]

use assert_cmd::cargo::{cargo_bin, cargo_bin_cmd};
use serde_yaml_ng::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn bin() -> &'static Path {
    cargo_bin!("lockgraph")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml(path: &Path) -> Value {
    serde_yaml_ng::from_str(&read(path))
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

// ---------------------------------------------------------------------------------------------
// What this build of lockgraph knows

/// Flags of `check` and `logs`, and the values of `--format`.
struct Known {
    flags: BTreeSet<String>,
    formats: BTreeSet<String>,
}

fn known() -> &'static Known {
    static KNOWN: OnceLock<Known> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let mut flags = BTreeSet::new();
        for sub in ["check", "logs"] {
            let out = cargo_bin_cmd!("lockgraph")
                .args([sub, "--help"])
                .output()
                .unwrap();
            let help = String::from_utf8_lossy(&out.stdout);
            for word in help.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
                if word.starts_with("--") && word.len() > 2 {
                    flags.insert(word.to_string());
                }
            }
        }
        // clap lists the possible values when one is wrong.
        let out = cargo_bin_cmd!("lockgraph")
            .args(["check", "--format", "not-a-format", "."])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let list = err
            .split("[possible values: ")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .unwrap_or_else(|| panic!("no possible values in: {err}"));
        let formats = list.split(',').map(|v| v.trim().to_string()).collect();
        Known { flags, formats }
    })
}

impl Known {
    /// The requirements (`--flag`, `--format=VALUE`) this build does not meet.
    fn missing(&self, requires: &[String]) -> Vec<String> {
        requires
            .iter()
            .filter(|r| match r.strip_prefix("--format=") {
                Some(value) => !self.formats.contains(value),
                None => !self.flags.contains(r.as_str()),
            })
            .cloned()
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The scratch project and running commands in it

struct Project {
    _dir: tempfile::TempDir,
    path: PathBuf,
    home: PathBuf,
    bin_dir: PathBuf,
    head: String,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "ci")
        .env("GIT_AUTHOR_EMAIL", "ci@example.com")
        .env("GIT_COMMITTER_NAME", "ci")
        .env("GIT_COMMITTER_EMAIL", "ci@example.com")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn project() -> Project {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("project");
    let home = dir.path().join("home");
    let bin_dir = dir.path().join("bin");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&bin_dir).unwrap();
    // The built lockgraph first on PATH (a link: a copy being written while another test forks
    // could not be executed, ETXTBSY).
    std::os::unix::fs::symlink(bin(), bin_dir.join("lockgraph")).unwrap();
    let samples = root().join("samples");
    copy_dir(&samples.join("shop"), &path);
    std::fs::create_dir_all(path.join("logs")).unwrap();
    for log in ["postgresql.log", "postgresql-old.log.gz"] {
        std::fs::copy(samples.join("logs").join(log), path.join("logs").join(log)).unwrap();
    }
    git(&path, &["init", "-q", "-b", "main"]);
    git(&path, &["add", "-A"]);
    git(&path, &["commit", "-q", "-m", "shop"]);
    git(&path, &["update-ref", "refs/remotes/origin/main", "HEAD"]);
    let head = git(&path, &["rev-parse", "HEAD"]);
    Project {
        _dir: dir,
        path,
        home,
        bin_dir,
        head,
    }
}

/// What a CI job would give a command: lockgraph on PATH, a private HOME, CI variables.
fn ci_command(project: &Project, program: &str) -> Command {
    let mut cmd = Command::new(program);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![project.bin_dir.clone()];
    dirs.extend(std::env::split_paths(&path));
    cmd.current_dir(&project.path)
        .env("PATH", std::env::join_paths(dirs).unwrap())
        .env("HOME", &project.home)
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", &project.path)
        .env("GITHUB_BASE_REF", "main")
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("GITLAB_CI", "true")
        .env("CI_PROJECT_DIR", &project.path)
        .env("CI_MERGE_REQUEST_DIFF_BASE_SHA", &project.head)
        .env("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main")
        .env_remove("DATABASE_URL");
    cmd
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn outcome(cmd: &mut Command) -> Outcome {
    let out = cmd.output().expect("run");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs one shell line as a CI job's shell would (bash, pipefail), `lockgraph` being the built
/// binary.
fn run_line(project: &Project, line: &str) -> Outcome {
    let rest = line
        .trim_start()
        .strip_prefix("lockgraph")
        .expect("a lockgraph line");
    let line = format!("'{}'{rest}", bin().display());
    outcome(ci_command(project, "bash").args([
        "--noprofile",
        "--norc",
        "-o",
        "pipefail",
        "-c",
        &line,
    ]))
}

// ---------------------------------------------------------------------------------------------
// docs/ci.md

/// A fenced block of docs/ci.md.
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    lang: String,
    ci_example: bool,
    requires: Vec<String>,
    text: String,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match (&mut open, trimmed.strip_prefix("```")) {
            (None, Some(info)) => {
                let mut words = info.split_whitespace();
                let lang = words.next().unwrap_or("").to_string();
                let mut block = Block {
                    line: i + 1,
                    lang,
                    ci_example: false,
                    requires: Vec::new(),
                    text: String::new(),
                };
                for word in words {
                    if word == "ci-example" {
                        block.ci_example = true;
                    } else if let Some(list) = word.strip_prefix("requires=") {
                        block.requires = list.split(',').map(str::to_string).collect();
                    } else {
                        panic!("docs/ci.md:{}: unknown fence attribute `{word}`", i + 1);
                    }
                }
                open = Some(block);
            }
            (Some(_), Some(_)) => out.push(open.take().unwrap()),
            (Some(block), None) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "docs/ci.md: unclosed code fence");
    out
}

/// Whether a line of an example (shell, or YAML `run:` / `script` item) starts a `lockgraph`
/// command.
fn invokes_lockgraph(line: &str) -> bool {
    let mut l = line.trim_start();
    for prefix in ["$ ", "- ", "run: ", "run: |"] {
        l = l.strip_prefix(prefix).unwrap_or(l).trim_start();
    }
    l == "lockgraph" || l.starts_with("lockgraph ")
}

/// Whether a block shows lockgraph being run (and so must be a `ci-example`).
fn runs_lockgraph(block: &Block) -> bool {
    block.text.lines().any(|l| {
        invokes_lockgraph(l)
            || l.contains("uses: lockgraph/lockgraph@")
            || l.contains("repo: https://github.com/lockgraph/lockgraph")
    })
}

/// `# exit N` in a line's comment.
fn documented_exit(line: &str) -> Option<i32> {
    let comment = line.split_once(" #")?.1;
    let rest = comment.split("exit ").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Shell lines of a block that invoke lockgraph (continuations joined).
fn shell_invocations(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        match line.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                let joined = std::mem::take(&mut current);
                let l = joined.trim_start();
                let l = l.strip_prefix("$ ").unwrap_or(l);
                if invokes_lockgraph(l) {
                    lines.push(l.to_string());
                }
            }
        }
    }
    lines
}

/// Runs one lockgraph command of an example and checks its exit code (the documented one, else
/// 0 or 1: a valid invocation) and the report file it redirects to.
fn check_command(project: &Project, place: &str, line: &str, expected: Option<i32>) {
    let r = run_line(project, line);
    let ok = match expected {
        Some(code) => r.code == code,
        None => r.code == 0 || r.code == 1,
    };
    if !ok {
        let hint = if r.stderr.contains("unexpected argument") || r.stderr.contains("invalid value")
        {
            "\nThis build of lockgraph does not know a flag or value of this example: if it is \
             still being built, mark the block `requires=--flag` (or `--format=VALUE`)."
        } else {
            ""
        };
        panic!(
            "{place}: `{line}` exited {} (expected {}){hint}\nstdout:\n{}\nstderr:\n{}",
            r.code,
            expected.map_or("0 or 1".to_string(), |c| c.to_string()),
            r.stdout,
            r.stderr
        );
    }
    if r.code != 2
        && let Some(file) = redirect_target(line)
    {
        check_report_file(&project.path.join(file), &format!("{place}: `{line}`"));
    }
}

/// `> FILE` at the end of a command.
fn redirect_target(line: &str) -> Option<String> {
    let command = line.split(" #").next().unwrap_or(line);
    let target = command.rsplit_once('>')?.1.trim();
    (!target.is_empty() && !target.contains(' ')).then(|| target.trim_matches('"').to_string())
}

/// A report a pipeline uploads must be what its consumer reads.
fn check_report_file(path: &Path, place: &str) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{place}: no report {}: {e}", path.display()));
    assert!(
        !text.trim().is_empty(),
        "{place}: {} is empty",
        path.display()
    );
    let name = path.file_name().unwrap().to_string_lossy();
    if name.ends_with(".json") || name.ends_with(".sarif") {
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{place}: {} is not JSON: {e}", path.display()));
        if name.ends_with(".sarif") {
            assert_eq!(v["version"], "2.1.0", "{place}: SARIF version");
        }
        if name.starts_with("gl-code-quality") {
            assert!(v.is_array(), "{place}: a code quality report is an array");
        }
    } else if name.ends_with(".xml") {
        assert!(
            text.contains("<testsuite"),
            "{place}: not JUnit XML: {text}"
        );
    }
}

/// The documented exit code of the raw YAML line that carries `command`.
fn yaml_exit(raw: &str, command: &str) -> Option<i32> {
    let first = command.lines().next()?.trim();
    raw.lines()
        .find(|l| l.contains(first))
        .and_then(documented_exit)
}

/// GitHub expressions the examples use, as a pull_request run on `main` would see them.
fn github_expression(project: &Project, expr: &str) -> Option<String> {
    match expr {
        "github.base_ref" => Some("main".into()),
        "github.event.pull_request.base.sha" => Some(project.head.clone()),
        "github.workspace" => Some(project.path.display().to_string()),
        "github.action_path" => Some(root().display().to_string()),
        "runner.os" => Some("Linux".into()),
        "runner.arch" => Some("X64".into()),
        _ => None,
    }
}

/// Replaces every `${{ expr }}`; an expression `lookup` does not know is a test failure.
fn substitute(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed expression in {text}"));
        let expr = rest[start + 3..start + end].trim();
        out.push_str(
            &lookup(expr).unwrap_or_else(|| panic!("unknown expression `{expr}` in {text}")),
        );
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

fn str_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Value::Mapping(m)) = v {
        for (k, v) in m {
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                other => panic!("unexpected value {other:?}"),
            };
            out.insert(k.as_str().expect("string key").to_string(), value);
        }
    }
    out
}

/// Runs GitHub workflow steps: this repository's action (emulated), `run:` lines that invoke
/// lockgraph, and checks that a SARIF upload finds its file. Returns the commands run.
fn run_github_steps(project: &Project, place: &str, raw: &str, steps: &[Value]) -> usize {
    let expr = |e: &str| github_expression(project, e);
    let sarif_file = |step: &Value| {
        let uses = step.get("uses").and_then(Value::as_str).unwrap_or("");
        uses.starts_with("github/codeql-action/upload-sarif@")
            .then(|| {
                str_map(step.get("with"))
                    .remove("sarif_file")
                    .unwrap_or_else(|| panic!("{place}: upload-sarif without sarif_file"))
            })
    };
    // An upload must find the file this job wrote, not one an earlier example left.
    for file in steps.iter().filter_map(sarif_file) {
        let _ = std::fs::remove_file(project.path.join(file));
    }
    let mut ran = 0;
    for step in steps {
        let uses = step.get("uses").and_then(Value::as_str).unwrap_or("");
        if uses.starts_with("lockgraph/lockgraph@") {
            let with: BTreeMap<String, String> = str_map(step.get("with"))
                .into_iter()
                .map(|(k, v)| (k, substitute(&v, &expr)))
                .collect();
            let run = run_action(project, &with);
            assert!(
                run.code == 0 || run.code == 1,
                "{place}: the action with {with:?} exited {}\n{}\n{}",
                run.code,
                run.stdout,
                run.stderr
            );
            ran += 1;
        } else if let Some(file) = sarif_file(step) {
            check_report_file(&project.path.join(file), place);
        } else if let Some(script) = step.get("run").and_then(Value::as_str) {
            for line in shell_invocations(script) {
                let expected = yaml_exit(raw, &line);
                check_command(project, place, &substitute(&line, &expr), expected);
                ran += 1;
            }
        }
    }
    ran
}

/// Runs the `script` of GitLab jobs and checks the report artifacts they declare.
fn run_gitlab_jobs(
    project: &Project,
    place: &str,
    raw: &str,
    jobs: &serde_yaml_ng::Mapping,
) -> usize {
    let mut ran = 0;
    for (name, job) in jobs {
        let Some(script) = job.get("script").and_then(Value::as_sequence) else {
            continue;
        };
        let reports = str_map(job.get("artifacts").and_then(|a| a.get("reports")));
        for file in reports.values() {
            let _ = std::fs::remove_file(project.path.join(file));
        }
        for line in script.iter().filter_map(Value::as_str) {
            for command in shell_invocations(line) {
                check_command(project, place, &command, yaml_exit(raw, &command));
                ran += 1;
            }
        }
        for (kind, file) in &reports {
            check_report_file(
                &project.path.join(file),
                &format!("{place}: job {name:?} report {kind}"),
            );
        }
    }
    ran
}

/// Runs the hooks a `.pre-commit-config.yaml` takes from this repository, on every SQL and
/// Python file of the project (as `pre-commit run --all-files` would).
fn run_pre_commit_config(project: &Project, place: &str, config: &Value) -> usize {
    let mut ran = 0;
    let repos = config["repos"].as_sequence().expect("repos");
    for repo in repos {
        let url = repo["repo"].as_str().unwrap_or("");
        if !url.contains("lockgraph/lockgraph") {
            continue;
        }
        for hook in repo["hooks"].as_sequence().expect("hooks") {
            let id = hook["id"].as_str().expect("hook id");
            let args = string_list(hook.get("args"));
            let files = tracked_files(project, &["sql", "py"]);
            let r = run_hook(project, id, &args, &files);
            assert!(
                r.code == 0 || r.code == 1,
                "{place}: hook {id} exited {}\n{}\n{}",
                r.code,
                r.stdout,
                r.stderr
            );
            ran += 1;
        }
    }
    ran
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_sequence)
        .map(|s| {
            s.iter()
                .map(|a| a.as_str().expect("string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn tracked_files(project: &Project, extensions: &[&str]) -> Vec<String> {
    git(&project.path, &["ls-files"])
        .lines()
        .filter(|f| extensions.iter().any(|e| f.ends_with(&format!(".{e}"))))
        .map(str::to_string)
        .collect()
}

/// Runs one ci-example block; returns the commands run.
fn run_block(project: &Project, block: &Block) -> usize {
    let place = format!("docs/ci.md:{}", block.line);
    match block.lang.as_str() {
        "sh" | "bash" | "shell" | "console" => {
            let mut ran = 0;
            for line in shell_invocations(&block.text) {
                check_command(project, &place, &line, documented_exit(&line));
                ran += 1;
            }
            ran
        }
        "yaml" | "yml" => {
            let doc: Value = serde_yaml_ng::from_str(&block.text)
                .unwrap_or_else(|e| panic!("{place}: invalid YAML: {e}"));
            match &doc {
                Value::Sequence(steps) => run_github_steps(project, &place, &block.text, steps),
                Value::Mapping(m) if m.contains_key("jobs") => {
                    let mut ran = 0;
                    for job in doc["jobs"].as_mapping().expect("jobs").values() {
                        let steps = job["steps"].as_sequence().expect("steps");
                        ran += run_github_steps(project, &place, &block.text, steps);
                    }
                    ran
                }
                Value::Mapping(m) if m.contains_key("repos") => {
                    run_pre_commit_config(project, &place, &doc)
                }
                Value::Mapping(m) => run_gitlab_jobs(project, &place, &block.text, m),
                _ => panic!("{place}: a YAML example of an unknown kind"),
            }
        }
        other => panic!("{place}: ci-example in a `{other}` block"),
    }
}

#[test]
fn every_ci_example_in_docs_runs_as_documented() {
    let markdown = read(&root().join("docs/ci.md"));
    let project = project();
    let (mut ran, mut blocks_run, mut pending) = (0, 0, Vec::new());
    for block in blocks(&markdown) {
        if !block.ci_example {
            assert!(
                !runs_lockgraph(&block),
                "docs/ci.md:{}: this block runs lockgraph: mark it ```{} ci-example so that it is \
                 tested",
                block.line,
                block.lang
            );
            continue;
        }
        let missing = known().missing(&block.requires);
        if !missing.is_empty() {
            eprintln!(
                "docs/ci.md:{}: pending, this build lacks {}",
                block.line,
                missing.join(", ")
            );
            pending.push(block.line);
            continue;
        }
        let n = run_block(&project, &block);
        assert!(
            n > 0,
            "docs/ci.md:{}: a ci-example that runs nothing",
            block.line
        );
        ran += n;
        blocks_run += 1;
    }
    eprintln!(
        "docs/ci.md: {ran} commands in {blocks_run} examples run, {} pending",
        pending.len()
    );
    assert!(blocks_run >= 3, "too few examples ran: {blocks_run}");
}

#[test]
fn fences_and_exit_comments_are_read() {
    let md = "text\n```sh ci-example requires=--baseline\nlockgraph check . \\\n  --fail-on never   # exit 0\nls\n```\n```yaml\n- run: lockgraph check .\n```\n";
    let b = blocks(md);
    assert_eq!(b.len(), 2);
    assert!(b[0].ci_example && !b[1].ci_example);
    assert_eq!(b[0].requires, ["--baseline"]);
    assert_eq!(b[0].line, 2);
    let lines = shell_invocations(&b[0].text);
    assert_eq!(lines, ["lockgraph check .    --fail-on never   # exit 0"]);
    assert_eq!(documented_exit(&lines[0]), Some(0));
    assert_eq!(documented_exit("lockgraph check . # exits with 1"), None);
    assert!(runs_lockgraph(&b[1]));
    assert_eq!(
        redirect_target("lockgraph check . > out.json  # exit 1"),
        Some("out.json".into())
    );
    assert_eq!(redirect_target("lockgraph check ."), None);
    let sub = substitute("origin/${{ github.base_ref }}", &|e| {
        (e == "github.base_ref").then(|| "main".to_string())
    });
    assert_eq!(sub, "origin/main");
}

// ---------------------------------------------------------------------------------------------
// action.yml

struct ActionRun {
    code: i32,
    outputs: BTreeMap<String, String>,
    stdout: String,
    stderr: String,
}

fn action() -> Value {
    yaml(&root().join("action.yml"))
}

/// Runs action.yml as a GitHub runner would, with `with` over the inputs' defaults: every
/// `bash` step except `install` (the built binary is on PATH instead), `uses:` steps skipped.
fn run_action(project: &Project, with: &BTreeMap<String, String>) -> ActionRun {
    let action = action();
    let mut inputs = BTreeMap::new();
    for (name, input) in action["inputs"].as_mapping().expect("inputs") {
        let name = name.as_str().unwrap().to_string();
        let default = input.get("default").and_then(Value::as_str).unwrap_or("");
        inputs.insert(name, default.to_string());
    }
    for (k, v) in with {
        assert!(inputs.contains_key(k), "action.yml has no input `{k}`");
        inputs.insert(k.clone(), v.clone());
    }
    let mut step_outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let (mut stdout, mut stderr, mut code) = (String::new(), String::new(), 0);
    let scratch = tempfile::tempdir().unwrap();
    for (i, step) in action["runs"]["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .enumerate()
    {
        let id = step.get("id").and_then(Value::as_str).unwrap_or("");
        let Some(script) = step.get("run").and_then(Value::as_str) else {
            continue;
        };
        if id == "install" {
            continue;
        }
        assert_eq!(step["shell"].as_str(), Some("bash"), "step {id}");
        let lookup = |e: &str| -> Option<String> {
            if let Some(name) = e.strip_prefix("inputs.") {
                return inputs.get(name).cloned();
            }
            github_expression(project, e)
        };
        let file = scratch.path().join(format!("step{i}.sh"));
        std::fs::write(&file, substitute(script, &lookup)).unwrap();
        let output_file = scratch.path().join(format!("output{i}"));
        std::fs::write(&output_file, "").unwrap();
        let mut cmd = ci_command(project, "bash");
        // GitHub's `shell: bash`.
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&file)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_ACTION_PATH", root());
        for (k, v) in str_map(step.get("env")) {
            cmd.env(k, substitute(&v, &lookup));
        }
        let r = outcome(&mut cmd);
        stdout.push_str(&r.stdout);
        stderr.push_str(&r.stderr);
        let outputs = read(&output_file)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        step_outputs.insert(id.to_string(), outputs);
        code = r.code;
        if code != 0 {
            break;
        }
    }
    let mut outputs = BTreeMap::new();
    for (name, output) in action["outputs"].as_mapping().expect("outputs") {
        let value = output["value"].as_str().expect("output value");
        let resolved = substitute(value, &|e: &str| {
            let rest = e.strip_prefix("steps.")?;
            let (step, key) = rest.split_once(".outputs.")?;
            Some(
                step_outputs
                    .get(step)?
                    .get(key)
                    .cloned()
                    .unwrap_or_default(),
            )
        });
        outputs.insert(name.as_str().unwrap().to_string(), resolved);
    }
    ActionRun {
        code,
        outputs,
        stdout,
        stderr,
    }
}

fn with(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn action_yml_declares_the_documented_interface() {
    let action = action();
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let inputs = action["inputs"].as_mapping().expect("inputs");
    let default = |name: &str| inputs.get(name).and_then(|i| i["default"].as_str());
    assert_eq!(default("paths"), Some("."));
    assert_eq!(default("format"), Some("github"));
    assert_eq!(default("fail-on"), Some(""));
    assert_eq!(default("args"), Some(""));
    assert_eq!(default("command"), Some("check"));
    assert!(action["outputs"].get("exit-code").is_some());

    let steps = action["runs"]["steps"].as_sequence().expect("steps");
    let step = |id: &str| {
        steps
            .iter()
            .find(|s| s.get("id").and_then(Value::as_str) == Some(id))
            .unwrap_or_else(|| panic!("no step `{id}`"))
    };
    // The binary is restored from the cache, and saved right after it is built.
    let (restore, save) = (step("cache"), step("save"));
    let uses = |s: &Value| s["uses"].as_str().unwrap_or("").to_string();
    assert!(uses(restore).starts_with("actions/cache/restore@"));
    assert!(uses(save).starts_with("actions/cache/save@"));
    assert_eq!(restore["with"]["path"], save["with"]["path"]);
    assert_eq!(restore["with"]["key"], save["with"]["key"]);
    let paths = restore["with"]["path"].as_str().unwrap();
    assert!(paths.contains("~/.cargo/bin/lockgraph"), "{paths}");
    // The install step builds this checkout's CLI crate.
    let install = step("install");
    assert_eq!(
        install["env"]["ACTION_PATH"].as_str(),
        Some("${{ github.action_path }}")
    );
    let script = install["run"].as_str().unwrap();
    let line = script
        .lines()
        .find(|l| l.trim_start().starts_with("cargo install"))
        .expect("cargo install line");
    assert!(line.contains("--locked"), "{line}");
    let crate_dir = line
        .split('"')
        .nth(1)
        .and_then(|p| p.strip_prefix("$ACTION_PATH/"))
        .unwrap_or_else(|| panic!("--path \"$ACTION_PATH/…\" in {line}"));
    let manifest = read(&root().join(crate_dir).join("Cargo.toml"));
    assert!(
        manifest.contains("name = \"lockgraph\""),
        "{crate_dir} builds `lockgraph`"
    );
    // Inputs reach the script through the environment only.
    let run = step("run")["run"].as_str().unwrap();
    assert!(
        !run.contains("${{"),
        "expressions pasted into the run script"
    );
}

#[test]
fn action_cache_key_step_hashes_the_sources() {
    let project = project();
    let action = action();
    let key_step = action["runs"]["steps"][0]["run"].as_str().unwrap();
    let out = tempfile::NamedTempFile::new().unwrap();
    let r = outcome(
        ci_command(&project, "bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", key_step])
            .env("ACTION_PATH", root())
            .env("GITHUB_OUTPUT", out.path()),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let key = read(out.path());
    assert!(
        key.starts_with("key=lockgraph-Linux-X64-")
            && key.trim().len() > "key=lockgraph-Linux-X64-".len() + 8,
        "{key}"
    );
}

#[test]
fn action_runs_with_its_defaults() {
    let project = project();
    let run = run_action(&project, &BTreeMap::new());
    if known().missing(&["--format=github".into()]).is_empty() {
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("::error file="), "{}", run.stdout);
    } else {
        eprintln!("pending: --format github is not built yet; the default run exits 2");
        assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    }
    assert_eq!(run.outputs["exit-code"], run.code.to_string());
    assert_eq!(run.outputs["output-file"], "");
}

#[test]
fn action_inputs_reach_lockgraph() {
    let project = project();
    // fail-on never: a report, exit 0.
    let run = run_action(&project, &with(&[("format", "json"), ("fail-on", "never")]));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("\"schema_version\""), "{}", run.stdout);
    // paths and quoted args: only the migrations are read, which lock in one order.
    let run = run_action(
        &project,
        &with(&[
            ("format", "text"),
            ("paths", "migrations\napp"),
            ("args", "--exclude 'app/*' --fail-on warning"),
        ]),
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("+ lockgraph check migrations app --format text"),
        "{}",
        run.stdout
    );
    // A path that does not exist: exit 2, reported as an error annotation.
    let run = run_action(
        &project,
        &with(&[("format", "text"), ("paths", "no-such-dir")]),
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.outputs["exit-code"], "2");
    assert!(
        run.stdout.contains("::error title=lockgraph::"),
        "{}",
        run.stdout
    );
    // logs.
    let run = run_action(
        &project,
        &with(&[
            ("command", "logs"),
            ("format", "json"),
            ("paths", "logs/postgresql.log"),
        ]),
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn action_writes_sarif_for_upload() {
    if !known().missing(&["--format=sarif".into()]).is_empty() {
        eprintln!("pending: --format sarif is not built yet");
        return;
    }
    let project = project();
    let run = run_action(&project, &with(&[("format", "sarif")]));
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.outputs["output-file"], "lockgraph.sarif");
    check_report_file(&project.path.join("lockgraph.sarif"), "action format sarif");
    let run = run_action(
        &project,
        &with(&[
            ("format", "sarif"),
            ("output-file", "no-such-dir/custom.sarif"),
            ("fail-on", "never"),
        ]),
    );
    assert_eq!(
        run.code, 2,
        "no-such-dir/ does not exist: the report cannot be written"
    );
    assert_eq!(run.outputs["exit-code"], "2");
    let run = run_action(
        &project,
        &with(&[
            ("format", "sarif"),
            ("output-file", "custom.sarif"),
            ("fail-on", "never"),
        ]),
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    check_report_file(&project.path.join("custom.sarif"), "action output-file");
}

// ---------------------------------------------------------------------------------------------
// .pre-commit-hooks.yaml

fn hooks() -> Vec<Value> {
    yaml(&root().join(".pre-commit-hooks.yaml"))
        .as_sequence()
        .expect("a list of hooks")
        .clone()
}

/// Runs a hook's `entry` + `args` (+ the files, when it takes file names), as pre-commit does.
fn run_hook(project: &Project, id: &str, args: &[String], files: &[String]) -> Outcome {
    let hooks = hooks();
    let hook = hooks
        .iter()
        .find(|h| h["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no hook `{id}` in .pre-commit-hooks.yaml"));
    let entry: Vec<&str> = hook["entry"]
        .as_str()
        .expect("entry")
        .split_whitespace()
        .collect();
    assert_eq!(entry[0], "lockgraph", "hook {id} runs lockgraph");
    let mut cmd = ci_command(project, bin().to_str().unwrap());
    cmd.args(&entry[1..])
        .args(string_list(hook.get("args")))
        .args(args);
    if hook
        .get("pass_filenames")
        .and_then(Value::as_bool)
        .unwrap_or(true)
    {
        cmd.args(files);
    }
    outcome(&mut cmd)
}

#[test]
fn pre_commit_hooks_are_valid_lockgraph_invocations() {
    let hooks = hooks();
    let ids: Vec<&str> = hooks.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["lockgraph", "lockgraph-all"]);
    for hook in &hooks {
        for key in ["name", "entry", "language"] {
            assert!(hook[key].is_string(), "{key} of {:?}", hook["id"]);
        }
        assert_eq!(string_list(hook.get("types_or")), ["sql", "python"]);
    }
    let project = project();
    // Two staged files that deadlock with each other.
    let staged = [
        "migrations/0005_account_freeze.sql".to_string(),
        "app/account_statement.sql".to_string(),
    ];
    let r = run_hook(&project, "lockgraph", &[], &staged);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("LG101"), "{}", r.stdout);
    // A clean staged file.
    let r = run_hook(
        &project,
        "lockgraph",
        &[],
        &["app/register_customer.sql".to_string()],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // The whole tree, whatever is staged.
    let r = run_hook(
        &project,
        "lockgraph-all",
        &[],
        &["app/register_customer.sql".to_string()],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    if known().missing(&["--diff-base".into()]).is_empty() {
        let r = run_hook(
            &project,
            "lockgraph-all",
            &["--diff-base".into(), "HEAD".into()],
            &[],
        );
        assert_eq!(
            r.code, 0,
            "nothing changed since HEAD\n{}\n{}",
            r.stdout, r.stderr
        );
    }
}

/// The real pre-commit, when installed (`pip install pre-commit`), on a scratch git repository:
/// `try-repo` clones a local hook repository, so no network is needed.
#[test]
fn pre_commit_try_repo_runs_the_hooks() {
    if !have("pre-commit") {
        eprintln!("skipped: pre-commit is not installed (pip install pre-commit)");
        return;
    }
    let project = project();
    let hook_repo = project.home.join("hook-repo");
    std::fs::create_dir_all(&hook_repo).unwrap();
    std::fs::copy(
        root().join(".pre-commit-hooks.yaml"),
        hook_repo.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    git(&hook_repo, &["init", "-q"]);
    git(&hook_repo, &["add", "-A"]);
    git(&hook_repo, &["commit", "-q", "-m", "hooks"]);
    let try_repo = |hook: &str, files: &[&str]| {
        let mut cmd = ci_command(&project, "pre-commit");
        cmd.arg("try-repo")
            .arg(&hook_repo)
            .arg(hook)
            .arg("--files")
            .args(files)
            .env("PRE_COMMIT_HOME", project.home.join("pre-commit-cache"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "ci")
            .env("GIT_AUTHOR_EMAIL", "ci@example.com")
            .env("GIT_COMMITTER_NAME", "ci")
            .env("GIT_COMMITTER_EMAIL", "ci@example.com");
        outcome(&mut cmd)
    };
    let r = try_repo(
        "lockgraph",
        &[
            "migrations/0005_account_freeze.sql",
            "app/account_statement.sql",
            "logs/postgresql.log",
        ],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("LG101"), "{}", r.stdout);
    let r = try_repo("lockgraph", &["app/register_customer.sql"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = try_repo("lockgraph-all", &["app/register_customer.sql"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    // Not a SQL or Python file: the hooks do not run.
    let r = try_repo("lockgraph-all", &["logs/postgresql.log"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("(no files to check)Skipped"),
        "{}",
        r.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// completions and man pages

const SUBCOMMANDS: &[&str] = &[
    "check",
    "logs",
    "rules",
    "live",
    "trace",
    "repro",
    "completions",
    "man",
];

#[test]
fn completions_for_every_shell_know_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = cargo_bin_cmd!("lockgraph")
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = String::from_utf8_lossy(&out.stdout);
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} completion lacks `{sub}`");
        }
        // Every option of `check` (fish spells them `-l fail-on`).
        for flag in &known().flags {
            let name = flag.trim_start_matches('-');
            assert!(script.contains(name), "{shell} completion lacks `{flag}`");
        }
    }
    let bash = cargo_bin_cmd!("lockgraph")
        .args(["completions", "bash"])
        .output()
        .unwrap();
    if have("bash") {
        // The script is valid bash and registers a completion for `lockgraph`.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lockgraph.bash");
        std::fs::write(&file, &bash.stdout).unwrap();
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-c"])
            .arg(format!(
                "source '{}' && complete -p lockgraph",
                file.display()
            ))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("lockgraph"));
    }
    let bad = cargo_bin_cmd!("lockgraph")
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn man_pages_are_written_and_render() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man1");
    let out = cargo_bin_cmd!("lockgraph")
        .args(["man", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = String::from_utf8_lossy(&out.stdout);
    let mut pages = vec!["lockgraph.1".to_string()];
    pages.extend(SUBCOMMANDS.iter().map(|s| format!("lockgraph-{s}.1")));
    for page in &pages {
        let path = out_dir.join(page);
        assert!(
            listed.contains(&path.display().to_string()),
            "{page} not listed: {listed}"
        );
        let roff = read(&path);
        assert!(roff.contains(".TH "), "{page}: no .TH header");
        if have("man") {
            let r = Command::new("man")
                .arg("-l")
                .arg(&path)
                .env("MANPAGER", "cat")
                .env("PAGER", "cat")
                .env("MANWIDTH", "100")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&r.stdout);
            assert!(
                r.status.success(),
                "man -l {page}: {}",
                String::from_utf8_lossy(&r.stderr)
            );
            assert!(text.contains("SYNOPSIS"), "man -l {page}: {text}");
        }
    }
    let check = read(&out_dir.join("lockgraph-check.1"));
    assert!(
        check.contains("EXIT STATUS") && check.contains("fail\\-on"),
        "{check}"
    );
    // Without --out: the top page on stdout.
    let out = cargo_bin_cmd!("lockgraph").arg("man").output().unwrap();
    assert!(out.status.success());
    let top = String::from_utf8_lossy(&out.stdout);
    assert!(top.contains(".TH lockgraph 1"), "{top}");
    for sub in SUBCOMMANDS {
        assert!(top.contains(sub), "lockgraph.1 does not list `{sub}`");
    }
}

#[test]
fn readme_points_to_the_ci_docs() {
    let readme = read(&root().join("README.md"));
    let section = readme
        .split("\n## In CI\n")
        .nth(1)
        .expect("README has an `## In CI` section");
    let section = section.split("\n## ").next().unwrap();
    assert!(section.contains("(docs/ci.md)"), "{section}");
    let outputs = readme.find("\n## Output formats and exit codes").unwrap();
    let in_ci = readme.find("\n## In CI\n").unwrap();
    assert!(
        outputs < in_ci,
        "`In CI` follows `Output formats and exit codes`"
    );
}
