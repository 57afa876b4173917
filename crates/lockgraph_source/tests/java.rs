//! Java and Kotlin: fixture pairs (a `bad` tree where the rule fires, a `good` tree where it
//! does not, with a snapshot of what is extracted) and behaviour tests.

#[macro_use]
mod common;

#[allow(dead_code)]
#[path = "../examples/gen_java.rs"]
mod gen_java;

use common::{files, lock_list, render, run};
use lockgraph_core::TransactionKind;

#[test]
fn java_jdbc_set_auto_commit_prepare_and_commit() {
    check_pair!("java_jdbc", "LG101");
}

#[test]
fn kotlin_jdbc_use_blocks_and_auto_commit_property() {
    check_pair!("kotlin_jdbc", "LG101");
}

#[test]
fn java_spring_transactional_and_jdbc_template() {
    check_pair!("java_spring", "LG101");
}

#[test]
fn kotlin_spring_transactional_and_named_parameters() {
    check_pair!("kotlin_spring", "LG101");
}

#[test]
fn java_jpa_repository_lock_and_native_query() {
    check_pair!("java_jpa", "LG101");
}

#[test]
fn java_entity_manager_find_lock_and_setters() {
    check_pair!("java_entity_manager", "LG101");
}

#[test]
fn java_constants_across_files_text_blocks_and_format() {
    check_pair!("java_constants", "LG101");
}

#[test]
fn java_loop_over_unsorted_keys() {
    check_pair!("java_loop", "LG103");
}

#[test]
fn java_interface_dispatches_to_its_implementation() {
    check_pair!("java_interface", "LG101");
}

// ----- behaviour ---------------------------------------------------------------------------------

/// `(name, [sql location: statement])` of every transaction.
fn statements(out: &lockgraph_source::Extraction) -> Vec<(String, Vec<String>)> {
    out.transactions
        .iter()
        .map(|t| {
            (
                t.name.to_string(),
                t.statements
                    .iter()
                    .map(|s| format!("{}: {}", s.location, s.text))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn prepared_statement_runs_at_the_execute_line_with_its_set_arguments() {
    let out = run(&files(&[(
        "a/Repo.java",
        r#"package a;
class Repo {
    void move(java.sql.Connection conn, long src, long dst) throws Exception {
        conn.setAutoCommit(false);
        PreparedStatement ps = conn.prepareStatement(
            "UPDATE accounts SET balance = balance - ? WHERE id = ?");
        ps.setInt(1, 5);
        ps.setLong(2, src);
        ps.executeUpdate();
        ps.setLong(2, dst);
        ps.executeUpdate();
        conn.commit();
        conn.createStatement().executeUpdate("DELETE FROM audit WHERE id = 1");
        conn.commit();
    }
}
"#,
    )]));
    assert_eq!(
        statements(&out),
        vec![
            (
                "Repo.move (a/Repo.java:4)".to_string(),
                vec![
                    "a/Repo.java:9: UPDATE accounts SET balance = balance - 5 WHERE id = $1"
                        .to_string(),
                    "a/Repo.java:11: UPDATE accounts SET balance = balance - 5 WHERE id = $2"
                        .to_string(),
                ]
            ),
            (
                "Repo.move (a/Repo.java:13)".to_string(),
                vec!["a/Repo.java:13: DELETE FROM audit WHERE id = 1".to_string()]
            ),
        ]
    );
    // The statement after the first commit is the next transaction of the same function.
    let second = &out.transactions[1];
    assert_eq!(second.kind, TransactionKind::Explicit);
    assert_eq!(second.statements[0].location.to_string(), "a/Repo.java:13");
    // `src` and `dst` are different rows.
    let locks = lock_list(&out.transactions[0]);
    assert!(locks.contains(&"accounts rows (id = $1) FOR NO KEY UPDATE".to_string()));
    assert!(locks.contains(&"accounts rows (id = $2) FOR NO KEY UPDATE".to_string()));
}

#[test]
fn kotlin_spring_scope_named_and_positional_arguments() {
    let out = run(&files(&[
        (
            "svc/Repo.kt",
            r#"package svc

const val MOVE = "UPDATE accounts SET balance = balance + :amount WHERE id = :id"

class Repo(private val named: NamedParameterJdbcTemplate, private val jdbc: JdbcTemplate) {
    fun credit(id: Long, amount: Long) = named.update(MOVE, mapOf("id" to id, "amount" to amount))

    fun audit(accountId: Long) {
        jdbc.update("INSERT INTO audit (account_id, note) VALUES (?, ?)", accountId, "credit")
    }
}
"#,
        ),
        (
            "svc/Service.kt",
            r#"package svc

class Service(private val repo: Repo) {
    @Transactional
    fun pay(src: Long, dst: Long) {
        repo.credit(src, -5)
        repo.credit(dst, 5)
        repo.audit(dst)
    }
}
"#,
        ),
    ]));
    assert_eq!(out.transactions.len(), 1, "{}", render(&out));
    let tx = &out.transactions[0];
    assert_eq!(&*tx.name, "Service.pay (svc/Service.kt:4)");
    let texts: Vec<String> = tx
        .statements
        .iter()
        .map(|s| format!("{}: {}", s.location, s.text))
        .collect();
    // Calls carry no data flow: both credits bind the helper's own `id` (the same row).
    assert_eq!(
        texts,
        vec![
            "svc/Repo.kt:6: UPDATE accounts SET balance = balance + $1 WHERE id = $2",
            "svc/Repo.kt:6: UPDATE accounts SET balance = balance + $1 WHERE id = $2",
            "svc/Repo.kt:9: INSERT INTO audit (account_id, note) VALUES ($3, 'credit')",
        ]
    );
}

#[test]
fn branches_fork_paths_and_throw_ends_one() {
    let out = run(&files(&[(
        "a/Svc.java",
        r#"package a;
class Svc {
    private final JdbcTemplate jdbc;
    @Transactional
    public void run(long id, boolean fast) {
        if (fast) {
            jdbc.update("UPDATE a SET x = 1 WHERE id = ?", id);
        } else {
            jdbc.update("UPDATE b SET x = 1 WHERE id = ?", id);
            throw new IllegalStateException("slow");
        }
        jdbc.update("UPDATE c SET x = 1 WHERE id = ?", id);
    }
}
"#,
    )]));
    let names: Vec<(String, Vec<String>)> = out
        .transactions
        .iter()
        .map(|t| {
            (
                t.name.to_string(),
                t.statements
                    .iter()
                    .map(|s| s.location.to_string())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            (
                "Svc.run (a/Svc.java:4) path 1/2".to_string(),
                vec!["a/Svc.java:7".to_string(), "a/Svc.java:12".to_string()]
            ),
            (
                "Svc.run (a/Svc.java:4) path 2/2".to_string(),
                vec!["a/Svc.java:9".to_string()]
            ),
        ]
    );
}

#[test]
fn kotlin_loops_repeat_and_sorted_keys_are_ordered() {
    let src = r#"package a

class Stock(private val jdbc: JdbcTemplate) {
    @Transactional
    fun reserve(skus: List<Long>) {
        for (sku in skus) {
            jdbc.update("UPDATE stock SET n = n - 1 WHERE sku = ?", sku)
        }
    }

    @Transactional
    fun reserveSorted(skus: List<Long>) {
        skus.sorted().forEach { jdbc.update("UPDATE stock SET n = n - 1 WHERE sku = ?", it) }
    }
}
"#;
    let out = run(&files(&[("a/Stock.kt", src)]));
    assert_eq!(out.transactions.len(), 2, "{}", render(&out));
    for tx in &out.transactions {
        let row = tx
            .locks
            .iter()
            .find(|l| l.target.to_string().contains("rows"))
            .expect("row lock");
        assert!(row.repeated, "{}", tx.name);
        let ordered = matches!(
            &row.target,
            lockgraph_core::LockTarget::Rows { key: Some(k), .. } if k.ordered
        );
        assert_eq!(ordered, tx.name.contains("reserveSorted"), "{}", tx.name);
    }
}

#[test]
fn interface_with_two_implementations_is_not_guessed() {
    let iface = "package p;\npublic interface Port { void run(long id); }\n";
    let a = "package p;\nclass A implements Port {\n    public void run(long id) { jdbc.update(\"UPDATE a SET x = 1 WHERE id = ?\", id); }\n}\n";
    let b = "package p;\nclass B implements Port {\n    public void run(long id) { jdbc.update(\"UPDATE b SET x = 1 WHERE id = ?\", id); }\n}\n";
    let svc = "package p;\nclass Svc {\n    private final Port port;\n    @Transactional\n    public void go(long id) { port.run(id); }\n}\n";
    let out = run(&files(&[
        ("p/Port.java", iface),
        ("p/A.java", a),
        ("p/B.java", b),
        ("p/Svc.java", svc),
    ]));
    // `A.run` and `B.run` are entry points of their own; `Svc.go` runs no known SQL.
    let names: Vec<&str> = out.transactions.iter().map(|t| &*t.name).collect();
    assert!(names.iter().all(|n| !n.starts_with("Svc.go")), "{names:?}");
    // With one implementation, the call goes to it.
    let out = run(&files(&[
        ("p/Port.java", iface),
        ("p/A.java", a),
        ("p/Svc.java", svc),
    ]));
    assert_eq!(out.transactions.len(), 1, "{}", render(&out));
    assert_eq!(&*out.transactions[0].name, "Svc.go (p/Svc.java:4)");
    assert_eq!(
        out.transactions[0].statements[0].location.to_string(),
        "p/A.java:3"
    );
}

#[test]
fn suppression_comments_target_the_next_code_line() {
    for (name, src) in [
        (
            "a/Svc.java",
            "package a;\nclass Svc {\n    void f() {\n        // lockgraph: ignore[LG101] reviewed\n        jdbc.update(\"UPDATE a SET x = 1 WHERE id = 1\");\n        String s = \"// lockgraph: ignore[LG102] not a comment\";\n    }\n}\n",
        ),
        (
            "a/Svc.kt",
            "package a\nclass Svc {\n    fun f() {\n        // lockgraph: ignore[LG101] reviewed\n        jdbc.update(\"UPDATE a SET x = 1 WHERE id = 1\")\n        val s = \"// lockgraph: ignore[LG102] not a comment\"\n    }\n}\n",
        ),
    ] {
        let out = run(&files(&[(name, src)]));
        assert_eq!(out.suppressions.len(), 1, "{name}");
        let s = &out.suppressions[0];
        assert_eq!(s.comment.to_string(), format!("{name}:4"));
        assert_eq!(s.target.to_string(), format!("{name}:5"));
        assert_eq!(s.codes, vec!["LG101".to_string()]);
        assert_eq!(out.statements[0].location.to_string(), format!("{name}:5"));
    }
}

#[test]
fn deep_nesting_is_bounded() {
    for (name, kotlin) in [("a/Deep.java", false), ("a/Deep.kt", true)] {
        let expr = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        let sum = vec!["\"x\""; 10_000].join(" + ");
        let src = if kotlin {
            format!(
                "package a\nfun f() {{\n    val x = {expr}\n    val s = {sum}\n    jdbc.update(\"UPDATE a SET x = 1\")\n}}\n"
            )
        } else {
            format!(
                "package a;\nclass Deep {{\n    void f() {{\n        int x = {expr};\n        String s = {sum};\n        jdbc.update(\"UPDATE a SET x = 1\");\n    }}\n}}\n"
            )
        };
        let out = run(&files(&[(name, &src)]));
        // No stack overflow; the file is read (or skipped with a warning), never a panic.
        assert!(out.transactions.len() <= 1, "{name}");
    }
}

#[test]
fn jpa_derived_finders_and_entity_tables() {
    let out = run(&files(&[
        (
            "m/LedgerEntry.java",
            "package m;\n@Entity\npublic class LedgerEntry {\n    @Id private Long id;\n    private Long accountId;\n    private String status;\n}\n",
        ),
        (
            "m/LedgerEntryRepository.java",
            "package m;\npublic interface LedgerEntryRepository extends JpaRepository<LedgerEntry, Long> {\n    @Lock(LockModeType.PESSIMISTIC_READ)\n    List<LedgerEntry> findAllByAccountIdAndStatusOrderByIdAsc(Long accountId, String status);\n}\n",
        ),
        (
            "m/Job.java",
            "package m;\nclass Job {\n    private final LedgerEntryRepository entries;\n    @Transactional\n    public void run(Long accountId) {\n        entries.findAllByAccountIdAndStatusOrderByIdAsc(accountId, \"open\");\n        entries.deleteById(accountId);\n    }\n}\n",
        ),
    ]));
    assert_eq!(out.transactions.len(), 1, "{}", render(&out));
    let texts: Vec<&str> = out.transactions[0]
        .statements
        .iter()
        .map(|s| &*s.text)
        .collect();
    assert_eq!(
        texts,
        vec![
            "SELECT * FROM ledger_entry WHERE account_id = $1 AND status = $2 ORDER BY id FOR SHARE",
            "DELETE FROM ledger_entry WHERE id = $1",
        ]
    );
}

#[test]
fn generated_corpus_extracts_cleanly() {
    let fs = common::generated(gen_java::generate(600));
    let (out, app0) = common::run_generated(&fs, |t| t.locks.len().to_string());
    insta::assert_snapshot!("generated_app0", app0.join("\n"));
    assert!(
        out.transactions
            .iter()
            .any(|t| t.kind == TransactionKind::Autocommit)
    );
    assert!(
        out.transactions
            .iter()
            .any(|t| t.locks.iter().any(|l| l.repeated))
    );
}

#[test]
fn transaction_template_jdbc_client_and_native_queries() {
    let out = run(&files(&[(
        "a/Jobs.java",
        r#"package a;
class Jobs {
    private final TransactionTemplate transactionTemplate;
    private final JdbcClient jdbcClient;
    private final EntityManager em;
    void run(long id, String ref) {
        transactionTemplate.executeWithoutResult(status -> {
            jdbcClient.sql("UPDATE holds SET active = false WHERE id = ?").param(id).update();
            em.createNativeQuery("SELECT * FROM orders WHERE ref = ?1 FOR UPDATE")
                .setParameter(1, ref)
                .getResultList();
        });
    }
}
"#,
    )]));
    assert_eq!(out.transactions.len(), 1, "{}", render(&out));
    let tx = &out.transactions[0];
    assert_eq!(&*tx.name, "Jobs.run (a/Jobs.java:7)");
    assert_eq!(tx.kind, TransactionKind::Explicit);
    let texts: Vec<String> = tx
        .statements
        .iter()
        .map(|s| format!("{}: {}", s.location, s.text))
        .collect();
    assert_eq!(
        texts,
        vec![
            "a/Jobs.java:8: UPDATE holds SET active = false WHERE id = $1",
            "a/Jobs.java:11: SELECT * FROM orders WHERE ref = $2 FOR UPDATE",
        ]
    );
}
