//! Writes a tree of realistic Java (and some Kotlin) service code for benchmarking the source
//! front-end.
//!
//! ```text
//! cargo run --release -p lockgraph_source --example gen_java -- <out-dir> [lines]
//! ```
//!
//! Each generated app (`app<N>/src/main/java/com/gen/app<N>/…`) has a JPA entity and Spring
//! Data repository, a `JdbcTemplate` DAO with constants and text blocks, a raw JDBC store with
//! `setAutoCommit(false)` / batches / `commit()`, `@Transactional` services calling them
//! across files and packages (branches, loops, sorted keys), a Kotlin report service and a
//! plain controller, about 300 lines in all.

use std::fmt::Write as _;

#[path = "common/mod.rs"]
mod common;

/// Generated files: (display path, text), about `lines` lines in total.
pub fn generate(lines: usize) -> Vec<(String, String)> {
    common::generate(lines, app_files)
}

fn app_files(n: usize) -> Vec<(String, String)> {
    let pkg = format!("com.gen.app{n}");
    let dir = format!("app{n}/src/main/java/com/gen/app{n}");
    let accounts = format!("app{n}_accounts");
    let ledger = format!("app{n}_ledger");
    let audit = format!("app{n}_audit");
    let mut files = Vec::new();

    let mut entity = String::new();
    let _ = write!(
        entity,
        r#"package {pkg}.model;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.math.BigDecimal;

@Entity
@Table(name = "{accounts}")
public class Account {{
    @Id
    private Long id;

    @Column(name = "owner_name", nullable = false)
    private String ownerName;

    private BigDecimal balance;

    private boolean frozen;

    public Long getId() {{
        return id;
    }}

    public BigDecimal getBalance() {{
        return balance;
    }}

    public void setBalance(BigDecimal balance) {{
        this.balance = balance;
    }}

    public boolean isFrozen() {{
        return frozen;
    }}
}}
"#
    );
    files.push((format!("{dir}/model/Account.java"), entity));

    let mut repo = String::new();
    let _ = write!(
        repo,
        r#"package {pkg}.repo;

import {pkg}.model.Account;
import jakarta.persistence.LockModeType;
import java.util.List;
import java.util.Optional;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Lock;
import org.springframework.data.jpa.repository.Modifying;
import org.springframework.data.jpa.repository.Query;
import org.springframework.data.repository.query.Param;

public interface AccountRepository extends JpaRepository<Account, Long> {{
    @Lock(LockModeType.PESSIMISTIC_WRITE)
    Optional<Account> findWithLockById(Long accountId);

    List<Account> findByOwnerName(String ownerName);

    @Modifying
    @Query(value = "UPDATE {accounts} SET frozen = true WHERE id = :id", nativeQuery = true)
    int freeze(@Param("id") Long accountId);
}}
"#
    );
    files.push((format!("{dir}/repo/AccountRepository.java"), repo));

    let mut dao = String::new();
    let _ = write!(
        dao,
        r#"package {pkg}.repo;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.stereotype.Repository;

@Repository
public class LedgerDao {{
    static final String INSERT_ENTRY =
            "INSERT INTO {ledger} (account_id, amount, note) VALUES (?, ?, ?)";

    static final String LOCK_ENTRY = """
            SELECT id, account_id, amount
              FROM {ledger}
             WHERE id = :entryId
               FOR UPDATE
            """;

    private final JdbcTemplate jdbc;
    private final NamedParameterJdbcTemplate named;

    public LedgerDao(JdbcTemplate jdbc, NamedParameterJdbcTemplate named) {{
        this.jdbc = jdbc;
        this.named = named;
    }}

    public void addEntry(long accountId, BigDecimal amount, String note) {{
        jdbc.update(INSERT_ENTRY, accountId, amount, note);
    }}

    public Map<String, Object> lockEntry(long entryId) {{
        return named.queryForMap(LOCK_ENTRY, Map.of("entryId", entryId));
    }}

    public void settle(long entryId) {{
        MapSqlParameterSource params = new MapSqlParameterSource().addValue("entryId", entryId);
        named.update("UPDATE {ledger} SET note = 'settled' WHERE id = :entryId", params);
    }}

    public List<Map<String, Object>> recent(long accountId, int limit) {{
        return jdbc.queryForList(
                "SELECT * FROM {ledger} WHERE account_id = ? ORDER BY id DESC LIMIT " + limit,
                accountId);
    }}

    public BigDecimal total(long accountId) {{
        BigDecimal sum = jdbc.queryForObject(
                "SELECT coalesce(sum(amount), 0) FROM {ledger} WHERE account_id = ?",
                BigDecimal.class, accountId);
        return sum == null ? BigDecimal.ZERO : sum;
    }}
}}
"#
    );
    files.push((format!("{dir}/repo/LedgerDao.java"), dao));

    let mut store = String::new();
    let _ = write!(
        store,
        r#"package {pkg}.repo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import javax.sql.DataSource;

public class AuditStore {{
    private final DataSource dataSource;

    public AuditStore(DataSource dataSource) {{
        this.dataSource = dataSource;
    }}

    public void record(List<String> events, long accountId) throws SQLException {{
        try (Connection conn = dataSource.getConnection()) {{
            conn.setAutoCommit(false);
            try (PreparedStatement ps = conn.prepareStatement(
                    "INSERT INTO {audit} (account_id, event) VALUES (?, ?)")) {{
                for (String event : events) {{
                    ps.setLong(1, accountId);
                    ps.setString(2, event);
                    ps.addBatch();
                }}
                ps.executeBatch();
                conn.commit();
            }} catch (SQLException e) {{
                conn.rollback();
                throw e;
            }}
        }}
    }}

    public int purge(int days) throws SQLException {{
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(
                        "DELETE FROM {audit} WHERE created_at < now() - make_interval(days => ?)")) {{
            ps.setInt(1, days);
            return ps.executeUpdate();
        }}
    }}

    static String describe(String event, long accountId) {{
        StringBuilder sb = new StringBuilder();
        sb.append(event).append('#').append(accountId);
        return sb.toString();
    }}
}}
"#
    );
    files.push((format!("{dir}/repo/AuditStore.java"), store));

    let mut service = String::new();
    let _ = write!(
        service,
        r#"package {pkg}.service;

import {pkg}.model.Account;
import {pkg}.repo.AccountRepository;
import {pkg}.repo.LedgerDao;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

@Service
public class TransferService {{
    private final AccountRepository accounts;
    private final LedgerDao ledger;

    public TransferService(AccountRepository accounts, LedgerDao ledger) {{
        this.accounts = accounts;
        this.ledger = ledger;
    }}

    @Transactional
    public void transfer(long fromId, long toId, BigDecimal amount) {{
        if (amount.signum() <= 0) {{
            throw new IllegalArgumentException("amount must be positive");
        }}
        long first = Math.min(fromId, toId);
        long second = Math.max(fromId, toId);
        Account a = accounts.findWithLockById(first).orElseThrow();
        Account b = accounts.findWithLockById(second).orElseThrow();
        Account from = a.getId() == fromId ? a : b;
        Account to = a.getId() == fromId ? b : a;
        from.setBalance(from.getBalance().subtract(amount));
        to.setBalance(to.getBalance().add(amount));
        ledger.addEntry(fromId, amount.negate(), "transfer out");
        ledger.addEntry(toId, amount, "transfer in");
    }}

    @Transactional
    public void settleAll(List<Long> entryIds) {{
        List<Long> ordered = new ArrayList<>(entryIds);
        Collections.sort(ordered);
        for (Long entryId : ordered) {{
            ledger.lockEntry(entryId);
            ledger.settle(entryId);
        }}
    }}

    @Transactional(readOnly = true)
    public BigDecimal balance(long accountId) {{
        BigDecimal total = ledger.total(accountId);
        return total.setScale(2);
    }}

    @Transactional
    public void freeze(long accountId, boolean notify) {{
        accounts.freeze(accountId);
        if (notify) {{
            ledger.addEntry(accountId, BigDecimal.ZERO, "frozen");
        }}
    }}

    public String summary(long accountId) {{
        StringBuilder sb = new StringBuilder("account ").append(accountId);
        for (int i = 0; i < 3; i++) {{
            sb.append(' ').append(i);
        }}
        return sb.toString();
    }}
}}
"#
    );
    files.push((format!("{dir}/service/TransferService.java"), service));

    let mut report = String::new();
    let _ = write!(
        report,
        r#"package {pkg}.service

import {pkg}.repo.LedgerDao
import org.springframework.jdbc.core.JdbcTemplate
import org.springframework.stereotype.Service
import org.springframework.transaction.annotation.Transactional

const val CLOSE_DAY = "UPDATE {ledger} SET note = 'closed' WHERE account_id = ?"

@Service
class ReportService(private val jdbc: JdbcTemplate, private val ledger: LedgerDao) {{
    @Transactional
    fun closeDay(accountIds: List<Long>) {{
        for (accountId in accountIds.sorted()) {{
            jdbc.update(CLOSE_DAY, accountId)
        }}
        jdbc.update("UPDATE {accounts} SET frozen = false WHERE frozen AND owner_name = ?", "system")
    }}

    fun render(accountId: Long): String {{
        val total = ledger.total(accountId)
        val label = when {{
            total.signum() > 0 -> "credit"
            total.signum() < 0 -> "debit"
            else -> "even"
        }}
        return "$accountId: $label $total"
    }}

    @Transactional
    fun rebuild(accountId: Long, full: Boolean) {{
        if (full) {{
            jdbc.update("DELETE FROM {ledger} WHERE account_id = ?", accountId)
        }} else {{
            ledger.settle(accountId)
        }}
    }}
}}
"#
    );
    files.push((
        format!("app{n}/src/main/kotlin/com/gen/app{n}/service/ReportService.kt"),
        report,
    ));

    let mut controller = String::new();
    let _ = write!(
        controller,
        r#"package {pkg}.web;

import {pkg}.service.TransferService;
import java.math.BigDecimal;
import java.util.List;

public class AccountController {{
    private final TransferService transfers;

    public AccountController(TransferService transfers) {{
        this.transfers = transfers;
    }}

    public String transfer(long from, long to, String amount) {{
        BigDecimal value = new BigDecimal(amount.trim());
        if (from == to) {{
            return "same account";
        }}
        transfers.transfer(from, to, value);
        return "ok";
    }}

    public String settle(List<Long> ids) {{
        if (ids.isEmpty()) {{
            return "nothing to do";
        }}
        transfers.settleAll(ids);
        return "settled " + ids.size();
    }}

    public String show(long id) {{
        return transfers.summary(id) + " = " + transfers.balance(id);
    }}
}}
"#
    );
    files.push((format!("{dir}/web/AccountController.java"), controller));
    files
}

fn main() {
    common::main("gen_java", generate);
}
