//! Writes a tree of realistic Ruby (Rails / ActiveRecord) service code for benchmarking the
//! source front-end.
//!
//! ```text
//! cargo run --release -p lockgraph_source --example gen_ruby -- <out-dir> [lines]
//! ```
//!
//! Each generated app (`app<N>/`) has ActiveRecord models, a repository with raw SQL (heredocs,
//! `find_by_sql`, `exec_query`), service objects that call it across files inside transactions
//! (with branches, loops over sorted keys, `with_lock`), a background job, a controller and
//! plain Ruby helper code, about 300 lines in all.

use std::fmt::Write as _;

#[path = "common/mod.rs"]
mod common;

/// Generated files: (display path, text), about `lines` lines in total.
pub fn generate(lines: usize) -> Vec<(String, String)> {
    common::generate(lines, app_files)
}

fn app_files(n: usize) -> Vec<(String, String)> {
    let a = format!("app{n}");
    let mut files = Vec::new();
    let mut push = |path: &str, text: String| files.push((format!("{a}/{path}"), text));

    push(
        "models/application_record.rb",
        "# Base class of the app's models.
class ApplicationRecord < ActiveRecord::Base
  self.abstract_class = true
end
"
        .into(),
    );

    push(
        "models/account.rb",
        format!(
            r##"# A customer account of shard {n}; balances in cents.
class Account < ApplicationRecord
  self.table_name = "{a}_accounts"

  has_many :ledger_entries
  validates :number, presence: true, uniqueness: true

  scope :active, -> {{ where(closed_at: nil) }}
  scope :overdrawn, -> {{ where("balance_cents < 0") }}

  def display_name
    "#{{owner}} (#{{number}})"
  end

  def overdrawn?
    balance_cents.negative?
  end

  def close!
    update!(closed_at: Time.current)
  end
end
"##
        ),
    );

    push(
        "models/ledger_entry.rb",
        format!(
            r##"# One movement of money on an account.
class LedgerEntry < ApplicationRecord
  self.table_name = "{a}_ledger_entries"

  belongs_to :account
  validates :amount_cents, numericality: true

  STATUSES = %w[pending settled reversed].freeze

  def settled?
    status == "settled"
  end

  def describe
    format("%s %d (%s)", kind, amount_cents, status)
  end
end
"##
        ),
    );

    push(
        "repositories/account_repository.rb",
        format!(
            r##"# Hot paths in raw SQL: the balance updates run thousands of times a minute.
class AccountRepository
  LOCK_ACCOUNT = <<~SQL
    SELECT * FROM {a}_accounts WHERE id = ? FOR UPDATE
  SQL

  DEBIT = <<~SQL.squish
    UPDATE {a}_accounts
       SET balance_cents = balance_cents - $2, updated_at = now()
     WHERE id = $1
  SQL

  def lock(account_id)
    Account.find_by_sql([LOCK_ACCOUNT, account_id]).first
  end

  def debit(account_id, amount_cents)
    ActiveRecord::Base.connection.exec_query(DEBIT, "debit", [account_id, amount_cents])
  end

  def credit(account_id, amount_cents)
    Account.where(id: account_id).update_all(["balance_cents = balance_cents + ?", amount_cents])
  end

  def lock_many(ids)
    Account.where(id: ids).order(:id).lock.to_a
  end

  def balance(account_id)
    Account.where(id: account_id).pick(:balance_cents)
  end

  def totals(ids)
    sums = Hash.new(0)
    ids.each do |id|
      sums[id] += balance(id).to_i
    end
    sums
  end
end
"##
        ),
    );

    push(
        "services/transfer_service.rb",
        r##"require_relative "../repositories/account_repository"

# Moves money between two accounts of the same shard.
class TransferService
  class InsufficientFunds < StandardError; end

  def self.call(from_id, to_id, amount_cents)
    new.call(from_id, to_id, amount_cents)
  end

  def initialize(accounts: AccountRepository.new)
    @accounts = accounts
  end

  def call(from_id, to_id, amount_cents)
    raise ArgumentError, "amount must be positive" unless amount_cents.positive?

    ActiveRecord::Base.transaction do
      Account.where(id: [from_id, to_id]).order(:id).lock.to_a
      balance = @accounts.balance(from_id)
      if balance < amount_cents
        raise InsufficientFunds, "account #{from_id}"
      end
      @accounts.debit(from_id, amount_cents)
      @accounts.credit(to_id, amount_cents)
      LedgerEntry.create!(account_id: from_id, amount_cents: -amount_cents, status: "settled")
      LedgerEntry.create!(account_id: to_id, amount_cents: amount_cents, status: "settled")
    end
  end

  def split(from_id, to_ids, amount_cents)
    share = amount_cents / to_ids.size
    Account.transaction do
      @accounts.lock_many([from_id, *to_ids])
      to_ids.sort.each do |to_id|
        @accounts.debit(from_id, share)
        @accounts.credit(to_id, share)
      end
    end
  end
end
"##
        .into(),
    );

    push(
        "services/reversal_service.rb",
        r##"# Reverses a settled ledger entry.
class ReversalService
  def call(entry_id)
    entry = LedgerEntry.find(entry_id)
    return unless entry.settled?

    entry.with_lock do
      account = Account.lock.find(entry.account_id)
      account.update!(balance_cents: account.balance_cents - entry.amount_cents)
      entry.update!(status: "reversed")
    end
  rescue ActiveRecord::RecordNotFound
    Rails.logger.warn("entry #{entry_id} is gone")
  end

  def reverse_all(entry_ids)
    case entry_ids.size
    when 0
      nil
    when 1
      call(entry_ids.first)
    else
      entry_ids.each { |id| ReversalJob.perform_later(id) }
    end
  end
end
"##
        .into(),
    );

    push(
        "jobs/interest_job.rb",
        format!(
            r##"# Nightly: credits interest to every active account of shard {n}.
class InterestJob
  RATE = 0.0002

  def perform
    Account.active.find_each do |account|
      interest = (account.balance_cents * RATE).floor
      next if interest.zero?

      account.with_lock do
        account.increment!(:balance_cents, interest)
        LedgerEntry.create!(account_id: account.id, amount_cents: interest, status: "settled")
      end
    end
    Account.overdrawn.update_all(flagged: true)
  end

  def report
    lines = []
    Account.where(flagged: true).each do |account|
      lines << account.display_name
    end
    lines.join("\n")
  end
end
"##
        ),
    );

    push(
        "controllers/transfers_controller.rb",
        r##"# POST /transfers
class TransfersController < ApplicationController
  def create
    TransferService.call(params[:from_id], params[:to_id], params[:amount_cents].to_i)
    render json: { ok: true }, status: :created
  rescue TransferService::InsufficientFunds => e
    render json: { error: e.message }, status: :unprocessable_entity
  end

  def reverse
    ReversalService.new.reverse_all(Array(params[:entry_ids]))
    head :no_content
  end
end
"##
        .into(),
    );

    let mut helpers = String::new();
    let _ = write!(
        helpers,
        r##"# Money formatting and parsing helpers (no database access).
module MoneyFormat{n}
  CURRENCIES = {{ "EUR" => "€", "USD" => "$", "GBP" => "£" }}.freeze

  module_function

  def format_cents(cents, currency = "EUR")
    sign = cents.negative? ? "-" : ""
    units, rest = cents.abs.divmod(100)
    "#{{sign}}#{{CURRENCIES.fetch(currency, currency)}}#{{group(units)}}.#{{rest.to_s.rjust(2, "0")}}"
  end

  def group(units)
    units.to_s.reverse.scan(/\d{{1,3}}/).join(",").reverse
  end

  def parse(text)
    cleaned = text.to_s.delete(",").strip
    return 0 if cleaned.empty?

    whole, frac = cleaned.split(".", 2)
    (whole.to_i * 100) + frac.to_s.ljust(2, "0")[0, 2].to_i
  end

  def round_half_even(value)
    floor = value.floor
    diff = value - floor
    if diff > 0.5
      floor + 1
    elsif diff < 0.5
      floor
    else
      floor.even? ? floor : floor + 1
    end
  end
end
"##
    );
    push("lib/money_format.rb", helpers);
    files
}

fn main() {
    common::main("gen_ruby", generate);
}
