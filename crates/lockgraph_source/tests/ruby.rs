//! Ruby (ActiveRecord): fixture pairs per pattern (`tests/data/ruby_*`, the rule fires for
//! `bad` only) and behaviour tests of the lowering — lock order and lines, parameters, scopes,
//! branches, loops, model tables, suppressions, depth.

#[macro_use]
mod common;

#[allow(dead_code)]
#[path = "../examples/gen_ruby.rs"]
mod gen_ruby;

use common::{files, lock_list, render, run};
use lockgraph_core::{RelationName, TransactionKind};
use lockgraph_source::{SourceOptions, extract, model_schema};

#[test]
fn transaction_forms_and_nested_savepoint() {
    check_pair!("ruby_transaction", "LG101");
}

#[test]
fn with_lock_and_lock_bang() {
    check_pair!("ruby_with_lock", "LG101");
}

#[test]
fn lock_for_share_then_update_is_an_upgrade() {
    check_pair!("ruby_lock_upgrade", "LG102");
}

#[test]
fn multi_row_lock_without_order() {
    check_pair!("ruby_multi_row", "LG103");
}

#[test]
fn loop_over_unsorted_ids() {
    check_pair!("ruby_loop", "LG103");
}

#[test]
fn class_level_writes() {
    check_pair!("ruby_writes", "LG101");
}

#[test]
fn raw_sql_find_by_sql_execute_heredoc() {
    check_pair!("ruby_raw_sql", "LG101");
}

#[test]
fn service_objects_across_files() {
    check_pair!("ruby_service_objects", "LG101");
}

#[test]
fn model_table_names() {
    check_pair!("ruby_models", "LG101");
}

#[test]
fn branches_and_early_exits() {
    check_pair!("ruby_branches", "LG101");
}

const MODELS: &str = r#"
class ApplicationRecord < ActiveRecord::Base
  self.abstract_class = true
end

class Account < ApplicationRecord
  has_many :ledger_entries
end

class LedgerEntry < ApplicationRecord
  belongs_to :account
end
"#;

#[test]
fn lock_order_and_lines_across_files() {
    let service = r#"
class TransferService
  def self.call(from_id, to_id, amount)
    new.call(from_id, to_id, amount)
  end

  def call(from_id, to_id, amount)
    ActiveRecord::Base.transaction do
      from = Account.lock.find(from_id)
      from.update!(balance: from.balance - amount)
      LedgerEntry.create!(account_id: from_id, amount: -amount)
    end
  end
end
"#;
    let ext = run(&files(&[
        ("app/models/models.rb", MODELS),
        ("app/services/transfer_service.rb", service),
    ]));
    assert!(
        ext.warnings.is_empty() && ext.diagnostics.is_empty(),
        "{}",
        render(&ext)
    );
    assert_eq!(ext.transactions.len(), 1, "{}", render(&ext));
    let tx = &ext.transactions[0];
    assert_eq!(
        &*tx.name,
        "TransferService.call (app/services/transfer_service.rb:8)"
    );
    assert_eq!(tx.kind, TransactionKind::Explicit);
    let sql: Vec<String> = tx
        .statements
        .iter()
        .map(|s| format!("{}: {}", s.location.line, s.redacted))
        .collect();
    assert_eq!(
        sql,
        [
            "9: SELECT * FROM accounts WHERE id = $1 FOR UPDATE",
            "10: UPDATE accounts SET balance = $2 WHERE id = $1",
            "11: INSERT INTO ledger_entries (account_id, amount) VALUES ($1, $2)",
        ]
    );
    let locks = lock_list(tx);
    assert!(
        locks.contains(&"accounts rows (id = $1) FOR UPDATE".to_string()),
        "{locks:?}"
    );
    // The lock points at the model call in the service, reached through `self.call`.
    let upd = tx
        .locks
        .iter()
        .find(|l| l.target.to_string() == "accounts rows (id = $1) FOR NO KEY UPDATE");
    assert!(
        upd.is_none(),
        "FOR UPDATE already covers the update: {locks:?}"
    );
}

#[test]
fn placeholders_are_numbered_by_argument() {
    let src = r#"
class Repo
  def move(from_id, to_id, amount)
    ActiveRecord::Base.transaction do
      Account.find_by_sql(["SELECT * FROM accounts WHERE id = ? FOR UPDATE", from_id])
      ActiveRecord::Base.connection.exec_query(
        "UPDATE accounts SET balance = balance + $2 WHERE id = $1", "credit", [to_id, amount])
      Account.where("id = :id AND balance > ?", 5, id: from_id).lock.first
      ActiveRecord::Base.connection.execute("UPDATE accounts SET n = n + 1 WHERE id = #{to_id}")
    end
  end
end
"#;
    let ext = run(&files(&[("app/repo.rb", src)]));
    let sql: Vec<String> = ext.transactions[0]
        .statements
        .iter()
        .map(|s| s.redacted.to_string())
        .collect();
    assert_eq!(
        sql,
        [
            "SELECT * FROM accounts WHERE id = $1 FOR UPDATE",
            // `$2` is numbered first: `amount` is met first in the text.
            "UPDATE accounts SET balance = balance + $2 WHERE id = $3",
            "SELECT * FROM accounts WHERE id = $1 AND balance > $4 FOR UPDATE",
            // An interpolated hole is a parameter of its own (literals are redacted).
            "UPDATE accounts SET n = n + ? WHERE id = $1",
        ],
        "{}",
        render(&ext)
    );
}

#[test]
fn heredocs_and_constants() {
    let src = r##"
class Ledger
  RAW = <<~'SQL'
    UPDATE ledger SET note = 'a\nb' WHERE id = $1
  SQL

  def settle(id, account_id)
    Ledger.transaction do
      ActiveRecord::Base.connection.exec_query(RAW, "raw", [id])
      sql = <<-SQL.squish
        SELECT * FROM accounts WHERE id = #{account_id} FOR SHARE
      SQL
      ActiveRecord::Base.connection.execute(sql)
      ActiveRecord::Base.connection.execute("SELECT * FROM " + "accounts WHERE id = 1")
    end
  end
end
"##;
    let ext = run(&files(&[("app/ledger.rb", src)]));
    assert!(ext.diagnostics.is_empty(), "{}", render(&ext));
    let sql: Vec<(u32, &str)> = ext.transactions[0]
        .statements
        .iter()
        .map(|s| (s.location.line, &*s.redacted))
        .collect();
    assert_eq!(
        sql,
        [
            (9, "UPDATE ledger SET note = ? WHERE id = $1"),
            (13, "SELECT * FROM accounts WHERE id = $1 FOR SHARE"),
            (14, "SELECT * FROM accounts WHERE id = ?"),
        ],
        "{}",
        render(&ext)
    );
}

#[test]
fn nested_transaction_joins_and_autocommit_outside() {
    let src = r#"
def pay(id)
  Account.find(id)
  Account.transaction do
    Account.lock.find(id)
    ApplicationRecord.transaction(requires_new: true) do
      Account.where(id: id).update_all(paid: true)
    end
  end
end
"#;
    let ext = run(&files(&[("app/pay.rb", src)]));
    let kinds: Vec<(u32, TransactionKind, usize)> = ext
        .transactions
        .iter()
        .map(|t| (t.location.line, t.kind, t.statements.len()))
        .collect();
    assert_eq!(
        kinds,
        [
            (3, TransactionKind::Autocommit, 1),
            (4, TransactionKind::Explicit, 2)
        ],
        "{}",
        render(&ext)
    );
}

#[test]
fn with_lock_selects_the_row_first() {
    let src = r#"
class Settle
  def call(id)
    account = Account.find(id)
    account.with_lock do
      account.balance -= 10
      account.save!
    end
  end
end
"#;
    let ext = run(&files(&[("app/settle.rb", src)]));
    let tx = ext
        .transactions
        .iter()
        .find(|t| t.kind == TransactionKind::Explicit)
        .expect("with_lock transaction");
    assert_eq!(tx.location.line, 5);
    let sql: Vec<&str> = tx.statements.iter().map(|s| &*s.redacted).collect();
    assert_eq!(
        sql,
        [
            "SELECT * FROM accounts WHERE id = $1 FOR UPDATE",
            "UPDATE accounts SET balance = $2 WHERE id = $1"
        ]
    );
}

#[test]
fn branches_fork_paths() {
    let src = r#"
def move(a_id, b_id, flag)
  Account.transaction do
    if flag
      Account.lock.find(a_id)
    else
      Wallet.lock.find(b_id)
    end
    Ledger.where(id: a_id).update_all(x: 1)
  end
end
"#;
    let ext = run(&files(&[("app/move.rb", src)]));
    let names: Vec<&str> = ext.transactions.iter().map(|t| &*t.name).collect();
    assert_eq!(
        names,
        [
            "move.move (app/move.rb:3) path 1/2",
            "move.move (app/move.rb:3) path 2/2"
        ],
        "{}",
        render(&ext)
    );
}

#[test]
fn loops_mark_repeated_and_sorted_keys_ordered() {
    let src = r#"
def restock(ids)
  Item.transaction do
    ids.each { |id| Item.lock.find(id) }
  end
end

def restock_sorted(ids)
  Item.transaction do
    ids.sort.each { |id| Item.lock.find(id) }
  end
end

def pair(a, b)
  first, second = [a, b].minmax
  Item.transaction do
    Item.lock.find(first)
    Item.lock.find(second)
  end
end
"#;
    let fs = files(&[("app/items.rb", src)]);
    let ext = run(&fs);
    assert_eq!(ext.transactions.len(), 3, "{}", render(&ext));
    for tx in &ext.transactions {
        let row = tx
            .locks
            .iter()
            .find(|l| l.target.to_string().starts_with("items rows"))
            .expect("row lock");
        assert_eq!(row.repeated, tx.location.line != 16, "{}", tx.name);
    }
    let codes = common::finding_codes(&ext, &model_schema(&fs));
    // Only the unsorted loop is a hazard.
    assert_eq!(codes, ["LG103"], "{}", render(&ext));
}

#[test]
fn records_know_their_model_from_where_they_came() {
    let src = r#"
class Orders
  def ship(order_id)
    Order.transaction do
      order = Order.lock.find(order_id)
      order.increment!(:version)
      order.lines.lock.to_a
      Order.where(id: order_id).first.destroy
      Order.new(state: "draft").save!
    end
  end
end
"#;
    let ext = run(&files(&[("app/orders.rb", src)]));
    let sql: Vec<&str> = ext.transactions[0]
        .statements
        .iter()
        .map(|s| &*s.redacted)
        .collect();
    assert_eq!(
        sql,
        [
            "SELECT * FROM orders WHERE id = $1 FOR UPDATE",
            "UPDATE orders SET version = version + $2 WHERE id = $1",
            "SELECT * FROM lines WHERE order_id = $1 FOR UPDATE",
            "SELECT * FROM orders WHERE id = $1",
            // `first` of a relation keyed on `order_id` is that row.
            "DELETE FROM orders WHERE id = $1",
            // A literal value is written into the statement (and redacted).
            "INSERT INTO orders (state) VALUES (?)",
        ],
        "{}",
        render(&ext)
    );
}

#[test]
fn model_tables_follow_rails_conventions() {
    let src = r#"
class Person < ApplicationRecord
end

class Status < ApplicationRecord
  belongs_to :owner, class_name: "Person"
end

class LedgerEntry < ActiveRecord::Base
  belongs_to :account
end

class Legacy < ApplicationRecord
  self.table_name = "tbl_legacy"
  self.primary_key = "legacy_id"
end

module Billing
  class Invoice < ApplicationRecord
  end
end

class Admin < Person
  validates :name, presence: true
end

def touch(id)
  Category.where(id: id).update_all(x: 1)
end
"#;
    let schema = model_schema(&files(&[("app/models.rb", src)]));
    let names: Vec<&str> = schema.tables.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "accounts",
            "categories",
            "invoices",
            "ledger_entries",
            "people",
            "statuses",
            "tbl_legacy"
        ]
    );
    let entries = &schema.tables[&RelationName::new("ledger_entries")];
    assert_eq!(entries.foreign_keys[0].columns, vec!["account_id".into()]);
    assert_eq!(entries.foreign_keys[0].parent.as_str(), "accounts");
    let statuses = &schema.tables[&RelationName::new("statuses")];
    assert_eq!(statuses.foreign_keys[0].columns, vec!["owner_id".into()]);
    assert_eq!(statuses.foreign_keys[0].parent.as_str(), "people");
    let legacy = &schema.tables[&RelationName::new("tbl_legacy")];
    assert_eq!(legacy.primary_key, vec!["legacy_id".into()]);
}

#[test]
fn suppression_comment_targets_the_next_code_line() {
    let src = r##"
def pay(id)
  Account.transaction do
    # lockgraph: ignore[LG101] accounts are always locked first by the batch job
    Account.lock.find(id)
    Account.lock.find(id) # lockgraph: ignore[LG103]
    x = "# lockgraph: ignore[LG999] in a string"
  end
end
"##;
    let ext = run(&files(&[("app/pay.rb", src)]));
    assert_eq!(ext.suppressions.len(), 2);
    let a = &ext.suppressions[0];
    assert_eq!((a.comment.line, a.target.line), (4, 5));
    assert_eq!(a.codes, ["LG101"]);
    assert_eq!(
        a.reason.as_deref(),
        Some("accounts are always locked first by the batch job")
    );
    let b = &ext.suppressions[1];
    assert_eq!((b.comment.line, b.target.line), (6, 6));
    // The suppressed line really takes the lock.
    assert!(
        ext.transactions[0]
            .statements
            .iter()
            .any(|s| s.location.line == a.target.line)
    );
}

#[test]
fn deep_nesting_does_not_overflow() {
    let n = 10_000;
    let arrays = format!("def f\n  x = {}1{}\nend\n", "[".repeat(n), "]".repeat(n));
    let parens = format!("def g\n  y = {}1{}\nend\n", "(".repeat(n), ")".repeat(n));
    let sum = format!("def h\n  z = 1{}\nend\n", " + 1".repeat(n));
    let chain = format!(
        "def k\n  Account.where(id: 1){}.lock.to_a\nend\n",
        ".where(id: 1)".repeat(n)
    );
    let ifs = format!(
        "def m\n{}Account.lock.find(1)\n{}end\n",
        "if a\n".repeat(n),
        "end\n".repeat(n)
    );
    let blocks = format!(
        "def b\n{}Account.lock.find(1)\n{}end\n",
        "x.each do\n".repeat(n),
        "end\n".repeat(n)
    );
    let fs = files(&[
        ("a.rb", &arrays),
        ("p.rb", &parens),
        ("s.rb", &sum),
        ("c.rb", &chain),
        ("i.rb", &ifs),
        ("b.rb", &blocks),
    ]);
    // On the test thread's ordinary stack.
    let ext = extract(&fs, &model_schema(&fs), &SourceOptions::default());
    assert!(
        ext.warnings.iter().all(|w| !w.contains("syntax error")),
        "{:?}",
        ext.warnings
    );
}

#[test]
fn generated_corpus_extracts_cleanly() {
    let fs = common::generated(gen_ruby::generate(1_000));
    let (ext, app0) = common::run_generated(&fs, |t| t.locks.len().to_string());
    insta::assert_snapshot!(app0.join("\n"));
    assert!(
        ext.transactions
            .iter()
            .any(|t| t.locks.iter().any(|l| l.repeated))
    );
    // The generated code is written without hazards.
    let codes = common::finding_codes(&ext, &model_schema(&fs));
    assert!(
        codes.iter().all(|c| !c.starts_with("LG1")),
        "{codes:?}\n{}",
        render(&ext)
    );
}
