//! The CI formats (SARIF, GitHub annotations, GitLab Code Quality, JUnit XML) on real findings:
//! SARIF validated against the official SARIF 2.1.0 schema, JUnit parsed back as XML, and an
//! insta snapshot of each format.

use lockgraph_core::{Finding, Fingerprint, Label, Location, Schema, Severity, Suggestion};
use lockgraph_report::{
    GraphView, Report, SARIF_FINGERPRINT_KEY, Sources, render_github, render_gitlab, render_junit,
    render_sarif,
};
use lockgraph_rules::{Analysis, CheckOptions, REGISTRY, check};
use lockgraph_sql::{SqlFileOptions, build_transactions};
use serde_json::Value;

const TRANSFER: &str = "BEGIN;\n\
UPDATE accounts SET balance = balance - 10 WHERE id = 1;\n\
UPDATE ledger SET total = total + 10 WHERE id = 1;\n\
COMMIT;\n";

const REFUND: &str = "BEGIN;\n\
UPDATE ledger SET total = total - 10 WHERE id = 1;\n\
UPDATE accounts SET balance = balance + 10 WHERE id = 1;\n\
COMMIT;\n";

/// Findings of the real rules on a two-file lock-order inversion.
fn inversion() -> Vec<Finding> {
    let schema = Schema::default();
    let opts = SqlFileOptions::default();
    let (mut txns, mut diags) = build_transactions("app/transfer.sql", TRANSFER, &schema, &opts);
    let (t2, d2) = build_transactions("app/refund.sql", REFUND, &schema, &opts);
    txns.extend(t2);
    diags.extend(d2);
    let analysis = Analysis::new(&txns, &diags, &schema, &[], CheckOptions::default());
    let codes: Vec<&str> = REGISTRY.iter().map(|r| r.info().code).collect();
    let findings = check(&analysis, &codes);
    assert_eq!(findings[0].code, "LG101", "{findings:#?}");
    findings
}

/// A live finding (places are sessions, line 0) whose texts need escaping in every format.
fn live_finding() -> Finding {
    let label = |pid: u32, message: &str, primary: bool| Label {
        location: Location::new(format!("pid {pid}"), 0),
        message: message.into(),
        primary,
        statement: Some("UPDATE \"t\" SET a = '<x>' & 1".into()),
    };
    Finding {
        code: "LG402",
        name: "deadlock-in-progress",
        severity: Severity::Warning,
        message: "100% stuck: pids 5477, 5478\nwait <here> & \"there\"".into(),
        relations: vec!["t".into()],
        labels: vec![
            label(5477, "(app) waits for ShareLock, held by 5478", true),
            label(5478, "(app) waits for ShareLock, held by 5477", false),
        ],
        fingerprint: Fingerprint(0x0123_4567_89ab_cdef),
        suggestion: Some(Suggestion {
            order: vec!["t".into(), "u".into()],
            edits: vec![],
        }),
        repro: None,
        notes: vec!["a note, with: punctuation".into()],
    }
}

/// A finding in a file whose name needs escaping in GitHub properties and URIs.
fn odd_path_finding() -> Finding {
    Finding {
        code: "LG901",
        name: "unparseable-statement",
        severity: Severity::Info,
        message: "done: 50%, then\r\nmore".into(),
        relations: vec![],
        labels: vec![Label {
            location: Location::new("./dir,with:odd chars/x.sql", 7),
            message: "here".into(),
            primary: true,
            statement: None,
        }],
        fingerprint: Fingerprint(42),
        suggestion: None,
        repro: None,
        notes: vec![],
    }
}

fn report<'a>(findings: &'a [Finding], graph: &'a GraphView, sources: &'a Sources) -> Report<'a> {
    Report {
        findings,
        graph,
        sources,
        transactions: 2,
        files: 2,
    }
}

fn sarif_validator() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-schema-2.1.0.json"
    );
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema file")).expect("JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_valid_sarif(text: &str) -> Value {
    let log: Value = serde_json::from_str(text).expect("SARIF is JSON");
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema errors:\n{}",
        errors.join("\n")
    );
    log
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let (graph, sources) = (GraphView::default(), Sources::default());
    let mut findings = inversion();
    findings.push(live_finding());
    findings.push(odd_path_finding());
    assert_valid_sarif(&render_sarif(&report(&findings, &graph, &sources)));
    assert_valid_sarif(&render_sarif(&report(&[], &graph, &sources)));
}

#[test]
fn sarif_schema_rejects_a_broken_log() {
    // The validator really checks: a result without a message is not SARIF.
    let bad = serde_json::json!({
        "version": "2.1.0",
        "runs": [{ "tool": { "driver": { "name": "x" } }, "results": [{ "ruleId": "X" }] }],
    });
    assert!(!sarif_validator().is_valid(&bad));
}

#[test]
fn sarif_has_rules_fingerprints_and_code_flows() {
    let (graph, sources) = (GraphView::default(), Sources::default());
    let findings = inversion();
    let log: Value =
        serde_json::from_str(&render_sarif(&report(&findings, &graph, &sources))).unwrap();
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), REGISTRY.len());
    for (rule, info) in rules.iter().zip(REGISTRY.iter().map(|r| r.info())) {
        assert_eq!(rule["id"], info.code);
        assert_eq!(rule["name"], info.name);
        assert_eq!(rule["helpUri"], info.docs_url());
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("How to fix")
        );
    }
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "LG101");
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "LG101");
    assert_eq!(
        result["partialFingerprints"][SARIF_FINGERPRINT_KEY],
        findings[0].fingerprint.to_hex()
    );
    let uri = &result["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(uri["uriBaseId"], "%SRCROOT%");
    assert!(uri["uri"].as_str().unwrap().starts_with("app/"));
    let flows = result["codeFlows"][0]["threadFlows"].as_array().unwrap();
    assert_eq!(flows.len(), 2, "one thread flow per transaction");
    let files: Vec<&str> = flows
        .iter()
        .map(|t| {
            let locs = t["locations"].as_array().unwrap();
            assert_eq!(locs.len(), 2, "takes one lock, then waits for the other");
            locs[0]["location"]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_ne!(
        files[0], files[1],
        "each transaction's path is in its own file"
    );
}

#[test]
fn sarif_live_places_are_logical() {
    let (graph, sources) = (GraphView::default(), Sources::default());
    let findings = [live_finding()];
    let log: Value =
        serde_json::from_str(&render_sarif(&report(&findings, &graph, &sources))).unwrap();
    let result = &log["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["logicalLocations"][0]["name"],
        "pid 5477"
    );
    assert!(result["locations"][0].get("physicalLocation").is_none());
    assert_eq!(
        result["codeFlows"][0]["threadFlows"][1]["message"]["text"],
        "pid 5478"
    );
}

#[test]
fn github_lines_escape_properly() {
    let (graph, sources) = (GraphView::default(), Sources::default());
    let findings = [odd_path_finding(), live_finding()];
    let out = render_github(&report(&findings, &graph, &sources));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "one line per finding:\n{out}");
    assert!(
        lines[0].starts_with(
            "::notice file=dir%2Cwith%3Aodd chars/x.sql,line=7,title=LG901 unparseable-statement::done: 50%25, then%0D%0Amore%0A"
        ),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(
            "::warning title=LG402 deadlock-in-progress::100%25 stuck: pids 5477, 5478%0Await"
        ),
        "a live finding has no file: {}",
        lines[1]
    );
}

#[test]
fn gitlab_has_the_required_keys() {
    let (graph, sources) = (GraphView::default(), Sources::default());
    let mut findings = inversion();
    findings.push(live_finding());
    let issues: Value =
        serde_json::from_str(&render_gitlab(&report(&findings, &graph, &sources))).unwrap();
    let issues = issues.as_array().unwrap();
    assert_eq!(issues.len(), findings.len());
    let mut fingerprints = std::collections::BTreeSet::new();
    for issue in issues {
        for key in ["description", "check_name", "fingerprint", "severity"] {
            assert!(issue[key].is_string(), "{key} in {issue}");
        }
        assert!(issue["location"]["path"].is_string());
        assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        assert!(
            ["blocker", "critical", "major", "minor", "info"]
                .contains(&issue["severity"].as_str().unwrap())
        );
        assert!(fingerprints.insert(issue["fingerprint"].as_str().unwrap().to_string()));
    }
    assert_eq!(issues[0]["location"]["path"], "app/transfer.sql");
    assert_eq!(issues.last().unwrap()["location"]["path"], "pid 5477");
    let empty = render_gitlab(&report(&[], &graph, &sources));
    assert_eq!(empty.trim(), "[]");
}

/// Parses XML, checking that tags nest; returns (testcases, failures, failure messages).
fn parse_junit(xml: &str) -> (usize, usize, Vec<String>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let (mut cases, mut failures, mut messages) = (0, 0, Vec::new());
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "testcase" => cases += 1,
                "failure" => {
                    failures += 1;
                    let message = e
                        .try_get_attribute("message")
                        .expect("attribute")
                        .expect("message");
                    messages.push(
                        message
                            .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                            .expect("escaped")
                            .into_owned(),
                    );
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    (cases, failures, messages)
}

#[test]
fn junit_parses_as_xml() {
    let (graph, sources) = (GraphView::default(), Sources::default());
    let mut findings = inversion();
    findings.push(live_finding());
    let xml = render_junit(&report(&findings, &graph, &sources));
    let (cases, failures, messages) = parse_junit(&xml);
    assert_eq!((cases, failures), (findings.len(), findings.len()));
    assert_eq!(
        messages.last().unwrap(),
        "100% stuck: pids 5477, 5478\nwait <here> & \"there\"",
        "attribute escaping round-trips"
    );

    let clean = render_junit(&report(&[], &graph, &sources));
    assert_eq!(parse_junit(&clean), (1, 0, vec![]), "{clean}");
}

/// The SARIF log with the rules left out (they are the registry's, tested above, and change
/// with every rule edit), `ruleIndex` checked against them and then hidden (a rule added to the
/// registry shifts it), and the version made constant.
fn sarif_for_snapshot(text: &str) -> String {
    let mut log: Value = serde_json::from_str(text).unwrap();
    let run = &mut log["runs"][0];
    let ids: Vec<Value> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    for result in run["results"].as_array_mut().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids[index], result["ruleId"]);
        result["ruleIndex"] = "INDEX".into();
    }
    let driver = &mut run["tool"]["driver"];
    driver["version"] = "VERSION".into();
    driver["semanticVersion"] = "VERSION".into();
    driver["rules"] = "[… every rule of the registry …]".into();
    serde_json::to_string_pretty(&log).unwrap()
}

#[test]
fn snapshots() {
    let (graph, sources) = (GraphView::default(), Sources::default());
    let mut findings = inversion();
    findings.push(live_finding());
    let r = report(&findings, &graph, &sources);
    insta::assert_snapshot!("sarif", sarif_for_snapshot(&render_sarif(&r)));
    insta::assert_snapshot!("github", render_github(&r));
    insta::assert_snapshot!("gitlab", render_gitlab(&r));
    insta::assert_snapshot!("junit", render_junit(&r));
    insta::assert_snapshot!("junit_clean", render_junit(&report(&[], &graph, &sources)));
}
