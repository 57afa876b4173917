//! Java and Kotlin: JDBC, Spring (`@Transactional`, `TransactionTemplate`, `JdbcTemplate`,
//! `NamedParameterJdbcTemplate`, `JdbcClient`) and JPA (entities, Spring Data repositories,
//! `EntityManager`).
//!
//! Both languages lower through one [`Lowerer`]: the grammar-specific walkers
//! (`java_syntax`, `kotlin_syntax`) read declarations, statements and
//! expressions and hand every call, as a [`CallView`], to the shared recognisers below, so a
//! Kotlin `jdbc.update(…)` and a Java one are the same thing.
//!
//! # What is recognised
//!
//! - **JDBC.** `conn.setAutoCommit(false)` starts a transaction (and `conn.autoCommit = false`
//!   in Kotlin); `commit()` / `rollback()` end it, and the next statement of the same function
//!   starts the next one (auto-commit stays off). `conn.prepareStatement(sql)` (or
//!   `prepareCall`) gives a statement whose `setXxx(i, value)` calls bind the `?` parameters in
//!   order; `executeUpdate()` / `executeQuery()` / `execute()` run it **at the line of the
//!   execute call** (the statement runs there, and a loop around the execute repeats it);
//!   `addBatch()` + `executeBatch()` runs it once per row. `stmt.executeUpdate(sql)` and friends
//!   run the SQL they are given. Resources of `try (…)` and Kotlin `use { ps -> … }` are bound.
//! - **Spring.** A method annotated `@Transactional` (or any public method of a class annotated
//!   so) is a transaction scope; a `@Transactional` method called from inside a transaction
//!   joins it (the default propagation). `transactionTemplate.execute { … }` /
//!   `executeWithoutResult` and Exposed's `transaction { … }` are scopes too.
//!   `jdbcTemplate.update(sql, args…)`, `query…(sql, [mapper,] args…)` bind `?` to the
//!   arguments shown (row mappers, class literals and lambdas are skipped, `new Object[]{…}` /
//!   `arrayOf(…)` expanded); `NamedParameterJdbcTemplate` binds `:name` from `Map.of(…)`,
//!   `mapOf("k" to v)`, `MapSqlParameterSource(…).addValue(…)` (also through a local
//!   variable); `jdbcClient.sql(s).param(…).update()` likewise.
//! - **JPA.** `@Entity` classes are models: the table is `@Table(name = …)`, else the class name
//!   in snake_case (`LedgerEntry` → `ledger_entry`, Spring Boot's default naming), columns are
//!   `@Column(name = …)` or the field name in snake_case, `@Id` is the key, `@ManyToOne` fields
//!   are `<field>_id` foreign keys. An interface extending `JpaRepository<E, K>` (or
//!   `CrudRepository`, `Repository`, …) is a repository of `E`: a method with
//!   `@Query(value = "…", nativeQuery = true)` runs that SQL (`:name` bound by `@Param` or the
//!   parameter name, `?1` by position); a derived finder (`findById`, `findByEmailAndStatus`,
//!   `deleteByXxx`, …) runs `SELECT … WHERE …`, with `FOR UPDATE` / `FOR SHARE` under
//!   `@Lock(PESSIMISTIC_WRITE / PESSIMISTIC_READ)`. `entityManager.find(X.class, id, mode)`,
//!   `em.lock(e, mode)`, `em.refresh(e, mode)`, `em.createNativeQuery(sql).setParameter(…)`,
//!   `persist` / `save` of a new entity (INSERT), `remove` / `delete` (DELETE at flush), and
//!   setters (`a.setBalance(…)`, Kotlin `a.balance = …`) on an entity the function loaded
//!   (UPDATE at flush: the end of the transaction, a `flush()`, or the next statement).
//! - **Calls and injection.** Fields (`private final AccountRepository accounts;`, `@Autowired`
//!   fields, Kotlin constructor `val`s and typed properties) give the class of
//!   `accounts.debit(id)` / `this.accounts.debit(id)`; typed parameters and locals likewise; a
//!   capitalised receiver is a class (static call, Kotlin `object`). A call through an interface
//!   runs the method of its one implementing class (`class JdbcAccountRepository implements
//!   AccountRepository`). A package is its directory; `import a.b.C` names `C`.
//! - **SQL text.** String literals, text blocks (`"""`), `+` concatenation, `static final`
//!   / `const val` constants (also from other files: `Queries.UPDATE` or a static import),
//!   local `String` variables, `String.format` / `.formatted` (`%s` are values), Kotlin
//!   templates (`$id`, `${a.b}` are values).
//! - **Control flow.** `if`/`else`, `switch`, `when`, `try`/`catch` (`finally` always runs),
//!   `?:`, `&&`, `||`, `?:` fork paths; `for`, enhanced `for`, `while`, `do`, `forEach { }`
//!   are loops; `return` / `throw` end a path (not inside a lambda). A loop over a sorted
//!   collection (`Collections.sort(ids)`, `ids.sort(…)`, `…stream().sorted()`, `ids.sorted()`,
//!   a `TreeSet`) takes its row locks in key order, as do values of `Math.min` / `minOf`.
//!
//! # Limits
//!
//! - `REQUIRES_NEW` / `NESTED` propagation is treated like the default (the inner method joins
//!   the outer transaction); `NOT_SUPPORTED`, `NEVER`, `SUPPORTS` and `MANDATORY` open none.
//!   Spring's proxies are not modelled: a `@Transactional` method called on `this` still opens
//!   its scope.
//! - JPQL (`@Query` without `nativeQuery = true`, `createQuery`) is not translated; Hibernate
//!   `Session` HQL neither. Anonymous classes' bodies are not read.
//! - Calls carry no data flow: a repository method's parameter `id` is the same row for every
//!   caller (as in the Python front-end).
//! - An entity loaded through a repository is known by the local's declared type, else by the
//!   repository's name (`accountRepository.findById(id)` → `Account`).

mod java_syntax;
mod kotlin_syntax;

use crate::ir::{CallTarget, ClassIr, FieldDecl, FuncIr, ModelDecl, ModuleIr, Op, OrmKind};
use crate::ir::{SiteBody, SiteIr};
use crate::lang::common::{self, MAX_DEPTH};
use crate::orm::{Action, Filter, FilterOp, LockSpec, OrmStmt, Strength, Value};
use crate::sqltext::{Arg, Args, Part, SqlExpr, percent_format, push};
use rustc_hash::{FxHashMap, FxHashSet};
use tree_sitter::Node;

/// A Java package is its directory: `src/main/java/com/shop/Repo.java` →
/// `src.main.java.com.shop` (imports name `com.shop.Repo`; modules match by dotted suffix).
pub(crate) fn module_path(name: &str) -> String {
    let mut segs = common::path_segments(name);
    segs.pop();
    segs.join(".")
}

/// Lowers one Java (or, with `kotlin`, Kotlin) file.
pub(crate) fn lower(src: &str, path: &str, module: &str, root: Node<'_>, kotlin: bool) -> ModuleIr {
    let mut l = Lowerer::new(src, path, module, kotlin);
    if kotlin {
        l.kt_file(root);
    } else {
        l.java_file(root);
    }
    l.ir
}

/// What an expression's value is, as far as lowering follows it.
#[derive(Clone, Debug)]
enum Val {
    /// An instance of a class named as written.
    Typed(String),
    /// A JDBC prepared statement (or JPA native query, or `JdbcClient` spec) with its SQL and
    /// the parameters bound so far.
    Prepared(Box<Prepared>),
    /// SQL text (a local `String`).
    Str(SqlExpr),
    /// Named parameters (`Map.of`, `MapSqlParameterSource`).
    Named(Vec<(String, Arg)>),
    /// Positional parameters (`new Object[]{a, b}`, `arrayOf(a, b)`).
    Seq(Vec<Arg>),
    /// A JPA entity: loaded by key, or new.
    Entity(Entity),
    /// A sorted collection.
    Sorted,
    /// One value of a sorted pair (`Math.min(a, b)`).
    Ordered,
}

/// A prepared statement being set up.
#[derive(Clone, Debug, Default)]
struct Prepared {
    sql: SqlExpr,
    /// 1-based positional parameters bound so far.
    params: Vec<(usize, Arg)>,
    /// Named parameters bound so far.
    named: Vec<(String, Arg)>,
    /// `JdbcClient.param(v)`: the next position.
    next: usize,
    /// `addBatch()` was called.
    batch: bool,
}

impl Prepared {
    fn args(&self) -> Option<Args> {
        let mut seq = Vec::new();
        for i in 1..=self.params.len() {
            match self.params.iter().rev().find(|(k, _)| *k == i) {
                Some((_, a)) => seq.push(a.clone()),
                None => break,
            }
        }
        if seq.is_empty() && self.named.is_empty() {
            return None;
        }
        Some(Args {
            positional: (!seq.is_empty()).then(|| seq.clone()),
            seq: (!seq.is_empty()).then_some(seq),
            named: (!self.named.is_empty()).then(|| self.named.clone()),
        })
    }
}

/// A JPA entity held by a local.
#[derive(Clone, Debug)]
struct Entity {
    class: String,
    /// The expression it was looked up with.
    key: Option<String>,
    /// Created with `new` (not in the database yet).
    new: bool,
}

/// A receiver as written.
#[derive(Clone, Debug)]
enum Recv {
    /// No receiver: `f(x)`.
    None,
    /// `this` / `super`.
    This,
    /// A simple name: `accounts`, `Account`, `jdbc`.
    Name(String),
    /// `this.accounts`.
    ThisField(String),
    /// Anything else.
    Expr,
}

/// A call, read from either grammar.
struct CallView<'t> {
    recv: Recv,
    /// The receiver's source text (for `stream().sorted()` and the like).
    recv_text: String,
    /// What the receiver evaluated to.
    recv_val: Option<Val>,
    name: String,
    /// Positional arguments.
    args: Vec<Node<'t>>,
    /// Kotlin named arguments.
    named: Vec<(String, Node<'t>)>,
    /// Lambdas passed (Java arguments that are lambdas, Kotlin trailing lambdas).
    lambdas: Vec<Node<'t>>,
    line: u32,
}

/// An annotation: last part of its name, line, arguments (`key = value` or positional).
#[derive(Clone)]
struct Ann<'t> {
    name: String,
    line: u32,
    args: Vec<(Option<String>, Node<'t>)>,
}

/// A parameter of a method.
struct Param<'t> {
    name: String,
    ty: String,
    anns: Vec<Ann<'t>>,
}

/// A method (or Kotlin function) as declared.
struct MethodDecl<'t> {
    name: String,
    line: u32,
    anns: Vec<Ann<'t>>,
    params: Vec<Param<'t>>,
    /// A block, or (Kotlin) an expression body.
    body: Option<Node<'t>>,
    public: bool,
}

/// A field (or Kotlin property / constructor `val`) as declared.
struct FieldInfo<'t> {
    name: String,
    ty: String,
    anns: Vec<Ann<'t>>,
    init: Option<Node<'t>>,
}

/// A type as written: name and type arguments (`JpaRepository<Account, Long>`).
struct TypeRef {
    name: String,
    args: Vec<String>,
}

/// A class, interface, enum, record or Kotlin object as declared.
struct ClassDecl<'t> {
    name: String,
    line: u32,
    anns: Vec<Ann<'t>>,
    bases: Vec<TypeRef>,
    fields: Vec<FieldInfo<'t>>,
    methods: Vec<MethodDecl<'t>>,
    /// Nested classes.
    nested: Vec<Node<'t>>,
}

/// Types whose methods are database calls, not calls into scanned code.
const DB_TYPES: &[&str] = &[
    "Connection",
    "Statement",
    "PreparedStatement",
    "CallableStatement",
    "JdbcTemplate",
    "JdbcOperations",
    "NamedParameterJdbcTemplate",
    "NamedParameterJdbcOperations",
    "JdbcClient",
    "EntityManager",
    "Session",
    "DataSource",
    "TransactionTemplate",
    "TransactionOperations",
];

/// Receiver names that are database handles whatever their declared type.
const DB_NAMES: &[&str] = &[
    "conn",
    "connection",
    "c",
    "jdbc",
    "jdbcTemplate",
    "template",
    "namedJdbc",
    "namedJdbcTemplate",
    "namedParameterJdbcTemplate",
    "namedTemplate",
    "jdbcClient",
    "stmt",
    "statement",
    "st",
    "ps",
    "em",
    "entityManager",
    "session",
];

/// `JdbcTemplate` / `JdbcOperations` methods whose first argument is SQL.
const TEMPLATE_METHODS: &[&str] = &[
    "update",
    "batchUpdate",
    "query",
    "queryForObject",
    "queryForList",
    "queryForMap",
    "queryForRowSet",
    "queryForStream",
    "queryForLong",
    "queryForInt",
    "execute",
];

/// `Statement` methods whose first argument is SQL.
const STATEMENT_METHODS: &[&str] = &[
    "execute",
    "executeUpdate",
    "executeQuery",
    "executeLargeUpdate",
];

/// Methods that run a prepared statement / native query / `JdbcClient` spec.
const RUN_METHODS: &[&str] = &[
    "execute",
    "executeUpdate",
    "executeQuery",
    "executeLargeUpdate",
    "getResultList",
    "getSingleResult",
    "getResultStream",
    "getSingleResultOrNull",
    "uniqueResult",
    "list",
    "update",
    "single",
    "optional",
    "stream",
];

/// Spring Data repository base interfaces: `X<Entity, Key>`.
const REPOSITORY_BASES: &[&str] = &[
    "JpaRepository",
    "CrudRepository",
    "ListCrudRepository",
    "PagingAndSortingRepository",
    "ListPagingAndSortingRepository",
    "Repository",
    "JpaSpecificationExecutor",
    "CoroutineCrudRepository",
];

/// Collection methods whose lambda runs once per element.
const LOOP_METHODS: &[&str] = &["forEach", "forEachOrdered", "forEachIndexed", "onEach"];

/// The lowering of one file (both grammars).
pub(crate) struct Lowerer<'s> {
    src: &'s str,
    path: &'s str,
    kotlin: bool,
    ir: ModuleIr,
    /// Current function.
    cur: u32,
    /// Current class (IR index) and what it declares.
    class: Option<u32>,
    class_name: String,
    fields: FxHashMap<String, String>,
    methods: FxHashSet<String>,
    /// Locals of the current function.
    vars: FxHashMap<String, Val>,
    /// Loops over sorted keys the lowering is in.
    ordered_loops: usize,
    /// Lambdas the lowering is in (`return` there ends the lambda only).
    lambdas: usize,
    /// `import static a.b.C.m` → `m: C`.
    static_imports: FxHashMap<String, String>,
    /// Implied models already pushed.
    implied: FxHashSet<String>,
}

impl<'s> Lowerer<'s> {
    fn new(src: &'s str, path: &'s str, module: &str, kotlin: bool) -> Self {
        Lowerer {
            src,
            path,
            kotlin,
            ir: common::module_ir(module),
            cur: 0,
            class: None,
            class_name: String::new(),
            fields: FxHashMap::default(),
            methods: FxHashSet::default(),
            vars: FxHashMap::default(),
            ordered_loops: 0,
            lambdas: 0,
            static_imports: FxHashMap::default(),
            implied: FxHashSet::default(),
        }
    }

    fn text(&self, n: Node<'_>) -> &'s str {
        common::text(self.src, n)
    }

    // ----- IR building -------------------------------------------------------------------------

    fn new_func(&mut self, name: &str, line: u32) -> u32 {
        let id = u32::try_from(self.ir.funcs.len()).unwrap_or(u32::MAX);
        let display = if self.class_name.is_empty() {
            format!("{}.{name}", self.file_stem())
        } else {
            format!("{}.{name}", self.class_name)
        };
        self.ir.funcs.push(FuncIr {
            name: name.to_string(),
            class: self.class,
            parent: None,
            display,
            line,
            body: Vec::new(),
            autobegin: false,
            is_module: false,
        });
        id
    }

    /// `Billing.kt` → `Billing` (Kotlin top-level functions are shown so).
    fn file_stem(&self) -> &'s str {
        let name = self.path.rsplit(['/', '\\']).next().unwrap_or(self.path);
        name.split('.').next().unwrap_or(name)
    }

    fn site(&mut self, line: u32, body: SiteBody, many: bool, args: Option<Args>) -> u32 {
        let mentions = |e: &str| {
            let head = e
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            matches!(self.vars.get(head), Some(Val::Ordered))
        };
        let ordered =
            self.ordered_loops > 0 || common::site_mentions(&body, args.as_ref(), mentions);
        let site = SiteIr {
            line,
            func: self.cur,
            many,
            body,
            args,
            ordered,
        };
        common::push_site(&mut self.ir, site)
    }

    fn sql(&mut self, ops: &mut Vec<Op>, line: u32, sql: SqlExpr, args: Option<Args>, many: bool) {
        let id = self.site(line, SiteBody::Raw(sql), many, args);
        ops.push(Op::Sql(id));
    }

    fn orm(&mut self, ops: &mut Vec<Op>, line: u32, stmt: OrmStmt, pending: bool) {
        self.imply_model(&stmt.model);
        let id = self.site(line, SiteBody::Orm(stmt), false, None);
        ops.push(if pending {
            Op::Pending(id)
        } else {
            Op::Sql(id)
        });
    }

    fn call_op(&mut self, target: CallTarget, line: u32) -> u32 {
        common::push_call(&mut self.ir, self.cur, target, line)
    }

    fn mark_autobegin(&mut self) {
        if let Some(f) = self.ir.funcs.get_mut(self.cur as usize) {
            f.autobegin = true;
        }
    }

    /// A model known only by a use (`em.find(Account.class, …)`): table by the convention.
    fn imply_model(&mut self, class: &str) {
        if class.is_empty() || !self.implied.insert(class.to_string()) {
            return;
        }
        self.ir.models.push(ModelDecl {
            class: class.to_string(),
            kind: OrmKind::Declared,
            table: Some(snake_case(class)),
            app: String::new(),
            is_abstract: false,
            bases: Vec::new(),
            fields: Vec::new(),
            line: 1,
            implied: true,
        });
    }

    // ----- declarations ------------------------------------------------------------------------

    /// `import a.b.C` → `C: a.b.C`; `import a.b.C.m` (static) → `m: a.b.m` and `m` is a
    /// member of `C`; `import a.b.C as D` → `D: a.b.C`.
    fn import(&mut self, dotted: &str, alias: Option<&str>, is_static: bool) {
        let dotted: String = dotted.chars().filter(|c| !c.is_whitespace()).collect();
        if dotted.ends_with('*') {
            return;
        }
        let Some((head, last)) = dotted.rsplit_once('.') else {
            return;
        };
        let local = alias.unwrap_or(last).to_string();
        // A member of a class (`import static`, or a Kotlin import of `Object.member`): the
        // name resolves in the class's package, and calls go to the class.
        let member = is_static
            || (self.kotlin
                && last.starts_with(|c: char| c.is_lowercase())
                && head
                    .rsplit('.')
                    .next()
                    .is_some_and(|c| c.starts_with(|ch: char| ch.is_uppercase())));
        if member {
            if let Some((pkg, class)) = head.rsplit_once('.') {
                self.static_imports.insert(local.clone(), class.to_string());
                self.ir.imports.insert(local, format!("{pkg}.{last}"));
            }
            return;
        }
        self.ir.imports.insert(local, dotted.clone());
    }

    /// Lowers a class and its members.
    fn lower_class(&mut self, decl: ClassDecl<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let saved = (
            self.class,
            std::mem::take(&mut self.class_name),
            std::mem::take(&mut self.fields),
            std::mem::take(&mut self.methods),
        );
        let ci = u32::try_from(self.ir.classes.len()).unwrap_or(u32::MAX);
        let mut class = ClassIr {
            name: decl.name.clone(),
            bases: decl.bases.iter().map(|b| b.name.clone()).collect(),
            ..ClassIr::default()
        };
        for f in &decl.fields {
            if is_class_type(&f.ty) {
                class.attrs.insert(f.name.clone(), f.ty.clone());
            } else if let Some(init) = f.init
                && let Some(Val::Typed(t)) = self.peek_val(init)
            {
                class.attrs.insert(f.name.clone(), t);
            }
        }
        self.ir.classes.push(class);
        self.class = Some(ci);
        self.class_name = decl.name.clone();
        self.fields = decl
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.ty.clone()))
            .collect();
        if let Some(c) = self.ir.classes.get(ci as usize) {
            for (k, v) in &c.attrs {
                self.fields.insert(k.clone(), v.clone());
            }
        }
        self.methods = decl.methods.iter().map(|m| m.name.clone()).collect();
        // String constants (`static final String`, `const val`, any string field).
        for f in &decl.fields {
            if let Some(init) = f.init
                && let Some(e) = self.str_expr(init, 0)
                && e.iter().any(|p| matches!(p, Part::Lit(_)))
            {
                self.ir.consts.insert(f.name.clone(), e);
            }
        }
        let class_tx = decl.anns.iter().find(|a| a.name == "Transactional");
        let class_tx = class_tx.and_then(|a| self.tx_scope(a).then_some(a.line));
        let entity = decl.anns.iter().any(|a| a.name == "Entity");
        if entity {
            self.entity(&decl);
        }
        let repo_entity = decl
            .bases
            .iter()
            .find(|b| REPOSITORY_BASES.contains(&b.name.rsplit('.').next().unwrap_or("")))
            .and_then(|b| b.args.first().cloned());
        for m in &decl.methods {
            self.lower_method(m, class_tx, repo_entity.as_deref(), depth + 1);
        }
        if let Some(e) = &repo_entity {
            self.imply_model(e);
        }
        for n in decl.nested {
            self.lower_class_node(n, depth + 1);
        }
        (self.class, self.class_name, self.fields, self.methods) = saved;
    }

    fn lower_class_node(&mut self, n: Node<'_>, depth: usize) {
        let decl = if self.kotlin {
            self.kt_class(n, depth)
        } else {
            self.java_class(n, depth)
        };
        if let Some(d) = decl {
            self.lower_class(d, depth);
        }
    }

    fn register_method(&mut self, ci: u32, name: &str, f: u32) {
        if let Some(c) = self.ir.classes.get_mut(ci as usize) {
            // Overloads: the first declaration with a body wins.
            let keep = c.methods.get(name).is_some_and(|&old| {
                self.ir
                    .funcs
                    .get(old as usize)
                    .is_some_and(|o| !o.body.is_empty())
            });
            if !keep {
                c.methods.insert(name.to_string(), f);
            }
        }
    }

    fn set_body(&mut self, f: u32, ops: Vec<Op>) {
        if let Some(func) = self.ir.funcs.get_mut(f as usize) {
            func.body = ops;
        }
    }

    /// Whether a `@Transactional` annotation opens a transaction (by its propagation).
    fn tx_scope(&self, a: &Ann<'_>) -> bool {
        !a.args.iter().any(|(k, v)| {
            k.as_deref() == Some("propagation") && {
                let t = self.text(*v);
                ["NOT_SUPPORTED", "NEVER", "SUPPORTS", "MANDATORY"]
                    .iter()
                    .any(|p| t.ends_with(p))
            }
        })
    }

    /// Lowers a method (or a Kotlin top-level function when there is no class).
    fn lower_method(
        &mut self,
        m: &MethodDecl<'_>,
        class_tx: Option<u32>,
        repo: Option<&str>,
        depth: usize,
    ) {
        let f = self.new_func(&m.name, m.line);
        let saved_cur = std::mem::replace(&mut self.cur, f);
        let saved_vars = std::mem::take(&mut self.vars);
        let saved_loops = std::mem::take(&mut self.ordered_loops);
        let saved_lambdas = std::mem::take(&mut self.lambdas);
        for p in &m.params {
            if is_class_type(&p.ty) {
                self.vars.insert(p.name.clone(), Val::Typed(p.ty.clone()));
            }
        }
        let mut ops = match (m.body, repo) {
            (Some(body), _) => self.body(body, depth + 1),
            (None, Some(entity)) => self.repository_method(m, entity),
            (None, None) => Vec::new(),
        };
        let method_tx = m.anns.iter().find(|a| a.name == "Transactional");
        let scope = match method_tx {
            Some(a) => self.tx_scope(a).then_some(a.line),
            None => class_tx.filter(|_| m.public).map(|_| m.line),
        };
        if let Some(line) = scope
            && m.body.is_some()
        {
            ops = vec![Op::Scope { line, body: ops }];
        }
        self.set_body(f, ops);
        if let Some(ci) = self.class {
            self.register_method(ci, &m.name, f);
        }
        self.cur = saved_cur;
        self.vars = saved_vars;
        self.ordered_loops = saved_loops;
        self.lambdas = saved_lambdas;
    }

    /// The statements of a body: a block's statements, or an expression.
    fn body(&mut self, body: Node<'_>, depth: usize) -> Vec<Op> {
        let mut ops = Vec::new();
        if self.kotlin {
            self.kt_body(body, &mut ops, depth);
        } else {
            self.java_stmt(body, &mut ops, depth);
        }
        ops
    }

    /// An expression in either grammar; what it evaluates to.
    fn expr(&mut self, n: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Option<Val> {
        if self.kotlin {
            self.kt_expr(n, ops, depth)
        } else {
            self.java_expr(n, ops, depth)
        }
    }

    /// The value of an initialiser without lowering it (constructor calls only).
    fn peek_val(&self, n: Node<'_>) -> Option<Val> {
        let t = self.text(n).trim();
        let t = t.strip_prefix("new ").unwrap_or(t).trim();
        let name = t.split(['(', '<']).next()?.trim();
        (t.ends_with(')') && is_class_type(name) && !name.contains(' '))
            .then(|| Val::Typed(name.to_string()))
    }

    // ----- JPA ---------------------------------------------------------------------------------

    fn entity(&mut self, decl: &ClassDecl<'_>) {
        let table = decl
            .anns
            .iter()
            .find(|a| a.name == "Table")
            .and_then(|a| {
                let name = self.ann_str(a, "name")?;
                Some(match self.ann_str(a, "schema") {
                    Some(s) => format!("{s}.{name}"),
                    None => name,
                })
            })
            .unwrap_or_else(|| snake_case(&decl.name));
        let mut fields = Vec::new();
        for f in &decl.fields {
            let has = |n: &str| f.anns.iter().any(|a| a.name == n);
            if has("Transient") || has("OneToMany") || has("ManyToMany") || has("Embedded") {
                continue;
            }
            let relation = has("ManyToOne") || has("OneToOne");
            let column_ann = f
                .anns
                .iter()
                .find(|a| a.name == "Column" || a.name == "JoinColumn");
            let column = column_ann
                .and_then(|a| self.ann_str(a, "name"))
                .unwrap_or_else(|| {
                    let c = snake_case(&f.name);
                    if relation { format!("{c}_id") } else { c }
                });
            let flag = |key: &str, v: &str| {
                column_ann.is_some_and(|a| {
                    a.args
                        .iter()
                        .any(|(k, n)| k.as_deref() == Some(key) && self.text(*n) == v)
                })
            };
            let id = has("Id");
            fields.push(FieldDecl {
                name: snake_case(&f.name),
                column,
                data_type: if relation {
                    "bigint".into()
                } else {
                    sql_type(&f.ty).into()
                },
                primary_key: id,
                unique: flag("unique", "true"),
                not_null: id || flag("nullable", "false") || is_primitive(&f.ty),
                has_default: id && has("GeneratedValue"),
                fk: relation.then(|| (f.ty.clone(), None, String::new())),
            });
        }
        self.implied.insert(decl.name.clone());
        self.ir.models.push(ModelDecl {
            class: decl.name.clone(),
            kind: OrmKind::Declared,
            table: Some(table),
            app: String::new(),
            is_abstract: false,
            bases: decl.bases.iter().map(|b| b.name.clone()).collect(),
            fields,
            line: decl.line,
            implied: false,
        });
    }

    /// A string argument of an annotation (`name = "x"`, or the only positional one for
    /// `value`).
    fn ann_str(&self, a: &Ann<'_>, key: &str) -> Option<String> {
        let node = a
            .args
            .iter()
            .find(|(k, _)| k.as_deref() == Some(key))
            .or_else(|| {
                (key == "value")
                    .then(|| a.args.iter().find(|(k, _)| k.is_none()))
                    .flatten()
            })?
            .1;
        let e = self.str_expr_const(node)?;
        let mut s = String::new();
        for p in e {
            match p {
                Part::Lit(l) => s.push_str(&l),
                _ => return None,
            }
        }
        Some(s)
    }

    /// The body of a repository interface method: `@Query(nativeQuery = true)` SQL, or a
    /// derived finder.
    fn repository_method(&mut self, m: &MethodDecl<'_>, entity: &str) -> Vec<Op> {
        let mut ops = Vec::new();
        let lock = m
            .anns
            .iter()
            .find(|a| a.name == "Lock")
            .and_then(|a| a.args.first().and_then(|(_, v)| self.lock_mode(*v)));
        if let Some(q) = m.anns.iter().find(|a| a.name == "Query") {
            let native = q
                .args
                .iter()
                .any(|(k, v)| k.as_deref() == Some("nativeQuery") && self.text(*v) == "true");
            let node = q
                .args
                .iter()
                .find(|(k, _)| k.as_deref() == Some("value") || k.is_none())
                .map(|(_, v)| *v);
            if native && let Some(sql) = node.and_then(|n| self.str_expr_const(n)) {
                let names: Vec<(String, Arg)> = m
                    .params
                    .iter()
                    .map(|p| {
                        let key = p
                            .anns
                            .iter()
                            .find(|a| a.name == "Param")
                            .and_then(|a| self.ann_str(a, "value"))
                            .unwrap_or_else(|| p.name.clone());
                        (key, Arg::Expr(p.name.clone()))
                    })
                    .collect();
                let seq: Vec<Arg> = names.iter().map(|(_, a)| a.clone()).collect();
                let args = (!names.is_empty()).then(|| Args {
                    positional: Some(seq.clone()),
                    seq: Some(seq),
                    named: Some(names),
                });
                self.sql(&mut ops, q.line, jpa_positional(sql), args, false);
            }
            return ops;
        }
        if let Some(stmt) = derived_query(&m.name, entity, &m.params, lock) {
            self.orm(&mut ops, m.line, stmt, false);
        }
        ops
    }

    /// `LockModeType.PESSIMISTIC_WRITE` → a `FOR UPDATE` clause.
    fn lock_mode(&self, n: Node<'_>) -> Option<LockSpec> {
        let t = self.text(n);
        let strength = if t.ends_with("PESSIMISTIC_WRITE")
            || t.ends_with("PESSIMISTIC_FORCE_INCREMENT")
            || t.contains("UPGRADE")
        {
            Strength::Update
        } else if t.ends_with("PESSIMISTIC_READ") {
            Strength::Share
        } else {
            return None;
        };
        Some(LockSpec {
            strength,
            of: Vec::new(),
            nowait: t.ends_with("UPGRADE_NOWAIT"),
            skip_locked: t.ends_with("UPGRADE_SKIPLOCKED"),
        })
    }

    // ----- calls -------------------------------------------------------------------------------

    /// The class a receiver is known to be an instance of.
    fn recv_type(&self, c: &CallView<'_>) -> Option<String> {
        match (&c.recv_val, &c.recv) {
            (Some(Val::Typed(t)), _) => Some(t.clone()),
            (_, Recv::Name(n)) if !self.vars.contains_key(n) => self.fields.get(n).cloned(),
            (_, Recv::ThisField(n)) => self.fields.get(n).cloned(),
            _ => None,
        }
    }

    /// Whether the receiver is a database handle (by type or by name).
    fn recv_is_db(&self, c: &CallView<'_>) -> bool {
        if let Some(t) = self.recv_type(c) {
            return DB_TYPES.contains(&t.as_str());
        }
        match &c.recv {
            Recv::Name(n) | Recv::ThisField(n) => {
                DB_NAMES.contains(&n.as_str()) || n.ends_with("Template") || n.ends_with("Jdbc")
            }
            _ => false,
        }
    }

    /// Where a call into scanned code goes.
    fn user_target(&self, c: &CallView<'_>) -> CallTarget {
        let m = c.name.clone();
        let typed = |t: &str| CallTarget::ClassMethod(t.to_string(), m.clone());
        match &c.recv {
            Recv::None => {
                if self.class.is_some() && self.methods.contains(&m) {
                    CallTarget::SelfMethod(m)
                } else if let Some(cls) = self.static_imports.get(&m) {
                    typed(cls)
                } else {
                    CallTarget::Path(vec![m])
                }
            }
            Recv::This => CallTarget::SelfMethod(m),
            Recv::ThisField(f) => CallTarget::SelfAttr(f.clone(), m),
            Recv::Name(n) => match self.vars.get(n) {
                Some(Val::Typed(t)) => typed(t),
                Some(_) => CallTarget::Path(vec!["?".into(), m]),
                None if self.fields.contains_key(n) && self.class.is_some() => {
                    CallTarget::SelfAttr(n.clone(), m)
                }
                None if n.starts_with(|ch: char| ch.is_uppercase()) => typed(n),
                None => CallTarget::Path(vec!["?".into(), m]),
            },
            Recv::Expr => match &c.recv_val {
                Some(Val::Typed(t)) => typed(t),
                _ => CallTarget::Path(vec!["?".into(), m]),
            },
        }
    }

    /// Lowers a call's arguments (nested calls, lambdas inline) and recognises it.
    fn call(&mut self, c: CallView<'_>, ops: &mut Vec<Op>, depth: usize) -> Option<Val> {
        if depth > MAX_DEPTH {
            return None;
        }
        let name = c.name.as_str();
        let line = c.line;
        // Arguments are evaluated first (their calls run before this one).
        let mut arg_vals: Vec<Option<Val>> = Vec::with_capacity(c.args.len());
        for a in &c.args {
            arg_vals.push(self.expr(*a, ops, depth + 1));
        }
        for (_, a) in &c.named {
            self.expr(*a, ops, depth + 1);
        }
        let db = self.recv_is_db(&c);
        let nargs = c.args.len() + c.named.len();

        // Transaction control.
        match name {
            "setAutoCommit" => {
                let off = c.args.first().is_some_and(|a| self.text(*a) == "false");
                if off {
                    ops.push(Op::Begin(line));
                } else {
                    ops.push(Op::Commit);
                }
                self.mark_autobegin();
                return None;
            }
            "commit" | "rollback"
                if nargs == 0
                    && self.recv_type(&c).is_none_or(|t| {
                        DB_TYPES.contains(&t.as_str()) || t.ends_with("Transaction")
                    }) =>
            {
                ops.push(if name == "commit" {
                    Op::Commit
                } else {
                    Op::Rollback
                });
                self.mark_autobegin();
                return None;
            }
            "begin" if nargs == 0 && c.recv_text.contains("ransaction") => {
                ops.push(Op::Begin(line));
                return None;
            }
            "beginTransaction" if nargs == 0 => {
                ops.push(Op::Begin(line));
                return None;
            }
            _ => {}
        }

        // `Optional` unwrapping keeps the entity a finder returned.
        if matches!(
            name,
            "orElseThrow" | "get" | "orElse" | "orElseGet" | "getOrNull" | "getOrThrow"
        ) && matches!(c.recv_val, Some(Val::Entity(_)))
        {
            return c.recv_val.clone();
        }

        // Kotlin scope functions: the lambda runs now, with the receiver as its parameter.
        if matches!(name, "use" | "let" | "also" | "apply" | "run" | "with")
            && !c.lambdas.is_empty()
        {
            let bound = c.recv_val.clone();
            for l in &c.lambdas {
                self.lambda(*l, bound.clone(), ops, depth + 1);
            }
            return None;
        }

        // Statements being set up and run.
        if let Some(Val::Prepared(p)) = &c.recv_val {
            let mut p = p.clone();
            return self.prepared_method(&c, &mut p, ops);
        }
        if matches!(
            name,
            "prepareStatement" | "prepareCall" | "createNativeQuery" | "sql"
        ) && let Some(first) = c.args.first()
            && (name != "sql" || db)
        {
            let sql = self.str_expr(*first, 0)?;
            let sql = if name == "createNativeQuery" {
                jpa_positional(sql)
            } else {
                sql
            };
            return Some(Val::Prepared(Box::new(Prepared {
                sql,
                ..Prepared::default()
            })));
        }

        // Transaction templates and scoped blocks.
        if (matches!(name, "execute" | "executeWithoutResult")
            && (c.recv_text.contains("ransaction") || c.recv_text.contains("txTemplate")))
            || (matches!(
                name,
                "transaction" | "newSuspendedTransaction" | "inTransaction"
            ) && !c.lambdas.is_empty())
        {
            let mut body = Vec::new();
            for l in &c.lambdas {
                self.lambda(*l, None, &mut body, depth + 1);
            }
            ops.push(Op::Scope { line, body });
            return None;
        }

        // Raw SQL on a Statement / JdbcTemplate.
        let sql_method = STATEMENT_METHODS.contains(&name)
            || TEMPLATE_METHODS.contains(&name)
            || name == "addBatch";
        if sql_method
            && let Some(first) = c.args.first().copied()
            && let Some(sql) = self.str_expr(first, 0)
        {
            let strong = db || is_literal_sql(&sql);
            let rest: Vec<(Node<'_>, Option<Val>)> = c
                .args
                .iter()
                .copied()
                .zip(arg_vals.iter().cloned())
                .skip(1)
                .collect();
            let args = self.template_args(&rest);
            let many = name == "batchUpdate" || name == "addBatch";
            let site = self.site(line, SiteBody::Raw(sql), many, args);
            if strong {
                ops.push(Op::Sql(site));
            } else {
                let target = self.user_target(&c);
                let call = self.call_op(target, line);
                ops.push(Op::CallOrSql { call, site });
            }
            self.lambdas_inline(&c, ops, depth);
            return None;
        }

        // JPA EntityManager and repositories' entity operations.
        if let Some(v) = self.jpa_call(&c, &arg_vals, ops) {
            return v;
        }

        // Values that matter for SQL arguments and key order.
        match name {
            "of" | "mapOf" | "singletonMap" | "hashMapOf" | "mutableMapOf"
                if matches!(c.recv_text.as_str(), "Map" | "Collections" | "") =>
            {
                if let Some(named) = self.map_args(&c.args) {
                    return Some(Val::Named(named));
                }
            }
            "addValue" | "put" => {
                if let Some(Val::Named(mut n)) = c.recv_val.clone()
                    && let [k, v] = c.args.as_slice()
                    && let Some(k) = self.string_lit(*k)
                    && let Some(v) = self.arg_of(*v)
                {
                    n.push((k, v));
                    return Some(Val::Named(n));
                }
            }
            "arrayOf" | "listOf" | "asList" | "mutableListOf" if c.lambdas.is_empty() => {
                let items: Option<Vec<Arg>> = c.args.iter().map(|a| self.arg_of(*a)).collect();
                return items.map(Val::Seq);
            }
            "sort" => {
                let target = if c.recv_text == "Collections" {
                    c.args.first().map(|a| self.text(*a).to_string())
                } else {
                    Some(c.recv_text.clone())
                };
                if let Some(t) = target.filter(|t| is_ident(t)) {
                    self.vars.insert(t, Val::Sorted);
                }
                return None;
            }
            "sorted" | "sortedBy" | "sortedDescending" | "toSortedSet" | "sortedWith" => {
                self.lambdas_inline(&c, ops, depth);
                return Some(Val::Sorted);
            }
            "min" | "max" | "minOf" | "maxOf" if c.args.len() == 2 => {
                return Some(Val::Ordered);
            }
            _ => {}
        }

        // Loops over collections.
        if LOOP_METHODS.contains(&name)
            || (matches!(name, "map" | "flatMap" | "filter" | "peek" | "mapToObj")
                && c.recv_text.contains("stream"))
        {
            let sorted = matches!(c.recv_val, Some(Val::Sorted))
                || c.recv_text.contains("sorted")
                || c.recv_text.contains("TreeSet");
            let mut body = Vec::new();
            self.ordered_loops += usize::from(sorted);
            for l in &c.lambdas {
                let bound = sorted.then_some(Val::Ordered);
                self.lambda(*l, bound, &mut body, depth + 1);
            }
            self.ordered_loops -= usize::from(sorted);
            if !body.is_empty() {
                ops.push(Op::Loop(body));
            }
            return matches!(c.recv_val, Some(Val::Sorted)).then_some(Val::Sorted);
        }

        // A call into (maybe) scanned code.
        if db {
            self.lambdas_inline(&c, ops, depth);
            return None;
        }
        let is_ctor =
            name.starts_with(|ch: char| ch.is_uppercase()) && matches!(c.recv, Recv::None);
        if is_ctor {
            self.lambdas_inline(&c, ops, depth);
            return Some(Val::Typed(name.to_string()));
        }
        let target = self.user_target(&c);
        let call = self.call_op(target, line);
        ops.push(Op::Call(call));
        self.lambdas_inline(&c, ops, depth);
        // A finder's result: an entity of the repository's model.
        if name.starts_with("find") || name.starts_with("get") || name.starts_with("lock") {
            let key = (name.ends_with("ById") || name.ends_with("ByIdForUpdate"))
                .then(|| c.args.first().and_then(|a| self.arg_expr(*a)))
                .flatten();
            if let Some(class) = self.repository_entity(&c) {
                return Some(Val::Entity(Entity {
                    class,
                    key,
                    new: false,
                }));
            }
        }
        None
    }

    /// The entity of a repository receiver, by its name: `AccountRepository` (type) or
    /// `accountRepository` / `accountRepo` (field) → `Account`.
    fn repository_entity(&self, c: &CallView<'_>) -> Option<String> {
        self.recv_type(c)
            .and_then(|t| t.strip_suffix("Repository").map(str::to_string))
            .or_else(|| match &c.recv {
                Recv::Name(n) | Recv::ThisField(n) => n
                    .strip_suffix("Repository")
                    .or_else(|| n.strip_suffix("Repo"))
                    .map(upper_first),
                _ => None,
            })
            .filter(|s| !s.is_empty())
    }

    /// Lambdas passed to a call that is not a loop: their bodies run in place.
    fn lambdas_inline(&mut self, c: &CallView<'_>, ops: &mut Vec<Op>, depth: usize) {
        for l in &c.lambdas {
            self.lambda(*l, None, ops, depth + 1);
        }
    }

    /// Lowers a lambda's body in place; its parameters are bound to `bound`.
    fn lambda(&mut self, l: Node<'_>, bound: Option<Val>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        self.lambdas += 1;
        if self.kotlin {
            self.kt_lambda(l, bound, ops, depth);
        } else {
            self.java_lambda(l, bound, ops, depth);
        }
        self.lambdas -= 1;
    }

    /// A method called on a prepared statement / native query / `JdbcClient` spec.
    fn prepared_method(
        &mut self,
        c: &CallView<'_>,
        p: &mut Prepared,
        ops: &mut Vec<Op>,
    ) -> Option<Val> {
        let name = c.name.as_str();
        let line = c.line;
        let store = |this: &mut Self, p: &Prepared| {
            if let Recv::Name(n) = &c.recv
                && matches!(this.vars.get(n), Some(Val::Prepared(_)))
            {
                this.vars
                    .insert(n.clone(), Val::Prepared(Box::new(p.clone())));
            }
        };
        if name == "setParameter"
            || name == "param"
            || (name.starts_with("set") && c.args.len() >= 2)
        {
            match c.args.as_slice() {
                [k, v, ..] => {
                    let value = self.arg_of(*v);
                    if let Some(key) = self.string_lit(*k) {
                        if let Some(v) = value {
                            p.named.push((key, v));
                        }
                    } else if let Ok(i) = self.text(*k).trim().parse::<usize>()
                        && let Some(v) = value
                    {
                        p.params.push((i, v));
                    }
                }
                [v] if name == "param" => {
                    p.next += 1;
                    if let Some(v) = self.arg_of(*v) {
                        p.params.push((p.next, v));
                    }
                }
                _ => {}
            }
            store(self, p);
            return Some(Val::Prepared(Box::new(p.clone())));
        }
        if name == "addBatch" && c.args.is_empty() {
            p.batch = true;
            store(self, p);
            return None;
        }
        if name == "executeBatch" || name == "executeLargeBatch" {
            let args = p.args();
            self.sql(ops, line, p.sql.clone(), args, true);
            return None;
        }
        if name == "query" && !c.args.is_empty() {
            // `JdbcClient.sql(…).query(Mapper.class)`: runs at the terminal.
            return Some(Val::Prepared(Box::new(p.clone())));
        }
        if RUN_METHODS.contains(&name) && c.args.is_empty() {
            let args = p.args();
            self.sql(ops, line, p.sql.clone(), args, p.batch);
            return None;
        }
        if name == "setLockMode" || name == "unwrap" || name == "setMaxResults" {
            return Some(Val::Prepared(Box::new(p.clone())));
        }
        None
    }

    /// `EntityManager` and repository calls on entities. `Some(value)` when handled.
    fn jpa_call(
        &mut self,
        c: &CallView<'_>,
        arg_vals: &[Option<Val>],
        ops: &mut Vec<Op>,
    ) -> Option<Option<Val>> {
        let name = c.name.as_str();
        let line = c.line;
        let entity_arg = arg_vals.first().and_then(|v| match v {
            Some(Val::Entity(e)) => Some(e.clone()),
            _ => None,
        });
        let first_name = c.args.first().map(|a| self.text(*a).to_string());
        let key_of = |e: &Entity| {
            e.key
                .clone()
                .or_else(|| first_name.as_ref().map(|n| format!("{n}.id")))
        };
        match name {
            "find" | "getReference" if c.args.len() >= 2 => {
                let class = self.class_literal(c.args[0])?;
                let key = self.arg_expr(c.args[1]);
                let lock = c.args.get(2).and_then(|n| self.lock_mode(*n));
                let mut stmt = OrmStmt::select(class.clone()).by_pk(key.clone());
                stmt.lock = lock;
                if name == "find" {
                    self.orm(ops, line, stmt, false);
                }
                Some(Some(Val::Entity(Entity {
                    class,
                    key,
                    new: false,
                })))
            }
            "lock" | "refresh" if c.args.len() >= 2 => {
                let e = entity_arg?;
                let lock = self.lock_mode(c.args[1]);
                let mut stmt = OrmStmt::select(e.class.clone()).by_pk(key_of(&e));
                stmt.lock = lock;
                self.orm(ops, line, stmt, false);
                Some(None)
            }
            "persist" | "save" | "saveAndFlush" | "insert" if c.args.len() == 1 => {
                let e = entity_arg.filter(|e| e.new)?;
                let stmt = OrmStmt::select(e.class.clone()).with_action(Action::Insert);
                self.orm(ops, line, stmt, false);
                Some(None)
            }
            "remove" | "delete" if c.args.len() == 1 => {
                let e = entity_arg.filter(|e| !e.new)?;
                let stmt = OrmStmt::select(e.class.clone())
                    .with_action(Action::Delete)
                    .by_pk(key_of(&e));
                self.orm(ops, line, stmt, true);
                Some(None)
            }
            "deleteById" if c.args.len() == 1 => {
                // Inherited from `CrudRepository`: the entity by the repository's name.
                let class = self.repository_entity(c)?;
                let stmt = OrmStmt::select(class)
                    .with_action(Action::Delete)
                    .by_pk(self.arg_expr(c.args[0]));
                self.orm(ops, line, stmt, false);
                Some(None)
            }
            "flush" if c.args.is_empty() && self.recv_is_db(c) => {
                ops.push(Op::Flush);
                Some(None)
            }
            _ => {
                // A setter on a loaded entity: an UPDATE at flush.
                if let Some(Val::Entity(e)) = &c.recv_val
                    && !e.new
                    && let Some(prop) = name.strip_prefix("set")
                    && c.args.len() == 1
                    && !prop.is_empty()
                {
                    let mut stmt = OrmStmt::select(e.class.clone())
                        .with_action(Action::Update)
                        .by_pk(
                            e.key
                                .clone()
                                .or_else(|| Some(format!("{}.id", c.recv_text))),
                        );
                    stmt.sets.push((snake_case(prop), Value::Param));
                    self.orm(ops, line, stmt, true);
                    return Some(None);
                }
                None
            }
        }
    }

    /// An assignment `entity.prop = value` (Kotlin): an UPDATE at flush.
    fn property_set(&mut self, recv: &str, prop: &str, line: u32, ops: &mut Vec<Op>) {
        if let Some(Val::Entity(e)) = self.vars.get(recv).cloned()
            && !e.new
        {
            let mut stmt = OrmStmt::select(e.class.clone())
                .with_action(Action::Update)
                .by_pk(e.key.clone().or_else(|| Some(format!("{recv}.id"))));
            stmt.sets.push((snake_case(prop), Value::Param));
            self.orm(ops, line, stmt, true);
        }
    }

    /// `conn.autoCommit = false` (Kotlin property syntax for `setAutoCommit`).
    fn auto_commit_set(&mut self, value: &str, line: u32, ops: &mut Vec<Op>) {
        ops.push(if value == "false" {
            Op::Begin(line)
        } else {
            Op::Commit
        });
        self.mark_autobegin();
    }

    /// Binds a local to what its initialiser evaluated to (or its declared type).
    fn bind(&mut self, name: &str, ty: Option<&str>, val: Option<Val>, init: Option<Node<'_>>) {
        let val = match (val, ty) {
            (Some(Val::Entity(mut e)), Some(t)) if is_class_type(t) => {
                e.class = t.to_string();
                Some(Val::Entity(e))
            }
            (Some(v), _) => Some(v),
            (None, _) => match init.and_then(|n| self.str_expr(n, 0)) {
                Some(e) if e.iter().any(|p| matches!(p, Part::Lit(_))) => Some(Val::Str(e)),
                _ => ty
                    .filter(|t| is_class_type(t))
                    .map(|t| Val::Typed(t.to_string())),
            },
        };
        match val {
            Some(v) => {
                self.vars.insert(name.to_string(), v);
            }
            None => {
                self.vars.remove(name);
            }
        }
    }

    /// An object creation (`new X(…)`, Kotlin `X(…)`): the value it makes.
    fn construct(&mut self, class: &str, args: &[Node<'_>]) -> Val {
        match class {
            "MapSqlParameterSource" => {
                let named = match args {
                    [k, v] => self
                        .string_lit(*k)
                        .zip(self.arg_of(*v))
                        .map(|kv| vec![kv])
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                Val::Named(named)
            }
            "TreeSet" | "TreeMap" | "PriorityQueue" => Val::Sorted,
            "HashMap" | "LinkedHashMap" if args.is_empty() => Val::Named(Vec::new()),
            _ if !self.fields.contains_key(class) && self.looks_like_entity(class) => {
                Val::Entity(Entity {
                    class: class.to_string(),
                    key: None,
                    new: true,
                })
            }
            _ => Val::Typed(class.to_string()),
        }
    }

    /// A class that is a JPA entity of this file or implied by a use here.
    fn looks_like_entity(&self, class: &str) -> bool {
        self.implied.contains(class)
    }

    // ----- arguments ---------------------------------------------------------------------------

    /// The parameters a `JdbcTemplate` call shows after its SQL: `?` values in order (row
    /// mappers, class literals, lambdas skipped; `Object[]` expanded), or named ones.
    fn template_args(&self, rest: &[(Node<'_>, Option<Val>)]) -> Option<Args> {
        let mut seq = Vec::new();
        let mut named: Option<Vec<(String, Arg)>> = None;
        for (n, v) in rest {
            match v {
                Some(Val::Named(m)) => {
                    named.get_or_insert_with(Vec::new).extend(m.iter().cloned());
                    continue;
                }
                Some(Val::Seq(items)) => {
                    seq.extend(items.iter().cloned());
                    continue;
                }
                _ => {}
            }
            if self.is_mapper(*n) {
                continue;
            }
            if let Some(items) = self.object_array(*n) {
                seq.extend(items);
                continue;
            }
            match self.arg_of(*n) {
                Some(a) => seq.push(a),
                None => break,
            }
        }
        if seq.is_empty() && named.is_none() {
            return None;
        }
        Some(Args {
            positional: (!seq.is_empty()).then(|| seq.clone()),
            seq: (!seq.is_empty()).then_some(seq),
            named,
        })
    }

    /// Row mappers, result types, callbacks, `int[]` type arrays: not SQL parameters.
    fn is_mapper(&self, n: Node<'_>) -> bool {
        let k = n.kind();
        if matches!(
            k,
            "lambda_expression"
                | "method_reference"
                | "class_literal"
                | "lambda_literal"
                | "annotated_lambda"
                | "callable_reference"
                | "object_literal"
        ) {
            return true;
        }
        let t = self.text(n);
        if k == "array_creation_expression" {
            return !t.contains("Object");
        }
        if t.ends_with(".class") || t.ends_with("::class.java") || t.ends_with("::class") {
            return true;
        }
        let last = t
            .rsplit(['.', ' '])
            .next()
            .unwrap_or(t)
            .trim_end_matches("()");
        let lower = last.to_ascii_lowercase();
        ["mapper", "extractor", "callback", "handler", "rowmapper"]
            .iter()
            .any(|s| lower.ends_with(s) || lower.starts_with("new") && t.contains("Mapper"))
            || t.contains("RowMapper")
    }

    /// `new Object[]{a, b}`: its items.
    fn object_array(&self, n: Node<'_>) -> Option<Vec<Arg>> {
        if n.kind() != "array_creation_expression" {
            return None;
        }
        let init = n.child_by_field_name("value")?;
        let mut cursor = init.walk();
        init.named_children(&mut cursor)
            .map(|c| self.arg_of(c))
            .collect()
    }

    /// `Map.of("k", v, …)`, `mapOf("k" to v)`, `singletonMap("k", v)`.
    fn map_args(&self, args: &[Node<'_>]) -> Option<Vec<(String, Arg)>> {
        let mut out = Vec::new();
        if args.first().is_some_and(|a| a.kind() == "infix_expression") {
            for a in args {
                let mut cursor = a.walk();
                let parts: Vec<Node<'_>> = a.named_children(&mut cursor).collect();
                if let [k, op, v] = parts.as_slice()
                    && self.text(*op) == "to"
                {
                    out.push((self.string_lit(*k)?, self.arg_of(*v)?));
                }
            }
            return Some(out);
        }
        for pair in args.chunks(2) {
            if let [k, v] = pair {
                out.push((self.string_lit(*k)?, self.arg_of(*v)?));
            }
        }
        Some(out)
    }

    /// A plain string literal's text (no holes).
    fn string_lit(&self, n: Node<'_>) -> Option<String> {
        if !n.kind().contains("string_literal") {
            return None;
        }
        let e = self.str_expr_const(n)?;
        match e.as_slice() {
            [Part::Lit(s)] => Some(s.clone()),
            [] => Some(String::new()),
            _ => None,
        }
    }

    /// A value passed with SQL: a literal as SQL text, else the expression's source text.
    fn arg_of(&self, n: Node<'_>) -> Option<Arg> {
        let k = n.kind();
        let t = self.text(n).trim();
        if k.contains("integer_literal")
            || k.contains("floating_point_literal")
            || k == "number_literal"
            || k == "float_literal"
            || k == "long_literal"
        {
            let digits: String = t
                .chars()
                .filter(|c| *c != '_')
                .collect::<String>()
                .trim_end_matches(['L', 'l', 'f', 'F', 'd', 'D'])
                .to_string();
            return Some(Arg::Lit(digits));
        }
        if matches!(t, "true" | "false") {
            return Some(Arg::Lit(t.to_ascii_uppercase()));
        }
        if matches!(k, "null_literal" | "null") || t == "null" {
            return Some(Arg::Lit("NULL".into()));
        }
        if let Some(s) = self.string_lit(n) {
            return Some(Arg::Lit(format!("'{}'", s.replace('\'', "''"))));
        }
        self.arg_expr(n).map(Arg::Expr)
    }

    /// The source text of an expression, as a program-wide parameter name.
    fn arg_expr(&self, n: Node<'_>) -> Option<String> {
        let t: String = self
            .text(n)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let t = t.strip_prefix("this.").unwrap_or(&t).to_string();
        (!t.is_empty()).then_some(t)
    }

    /// `Account.class`, `Account::class.java` → `Account`.
    fn class_literal(&self, n: Node<'_>) -> Option<String> {
        let t = self.text(n).trim();
        let name = t
            .strip_suffix(".class")
            .or_else(|| t.strip_suffix("::class.java"))
            .or_else(|| t.strip_suffix("::class"))?;
        let name = name.rsplit('.').next().unwrap_or(name);
        is_class_type(name).then(|| name.to_string())
    }

    // ----- SQL text ----------------------------------------------------------------------------

    /// SQL text an expression builds (`None` when it is not a string expression).
    fn str_expr(&self, n: Node<'_>, depth: usize) -> Option<SqlExpr> {
        if depth > MAX_DEPTH {
            return None;
        }
        match n.kind() {
            "string_literal" | "multiline_string_literal" | "text_block" => self.string_parts(n),
            "binary_expression" | "additive_expression" => {
                let op = n
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                if op != "+" {
                    return None;
                }
                let l = n.child_by_field_name("left")?;
                let r = n.child_by_field_name("right")?;
                let a = self.str_expr(l, depth + 1);
                let b = self.str_expr(r, depth + 1);
                if a.is_none() && b.is_none() {
                    return None;
                }
                let mut out = a.unwrap_or_else(|| vec![Part::Hole]);
                for p in b.unwrap_or_else(|| vec![Part::Hole]) {
                    push(&mut out, p);
                }
                Some(out)
            }
            "parenthesized_expression" => {
                let mut cursor = n.walk();
                let inner = n.named_children(&mut cursor).next()?;
                self.str_expr(inner, depth + 1)
            }
            "identifier" | "simple_identifier" => {
                let name = self.text(n);
                match self.vars.get(name) {
                    Some(Val::Str(e)) => Some(e.clone()),
                    Some(_) => None,
                    None => Some(vec![Part::Ref(vec![name.to_string()])]),
                }
            }
            "field_access" | "navigation_expression" => self.const_ref(n),
            "method_invocation" | "call_expression" => self.str_call(n, depth),
            _ => None,
        }
    }

    /// `str_expr` for annotation values and constants: no locals.
    fn str_expr_const(&self, n: Node<'_>) -> Option<SqlExpr> {
        self.str_expr(n, 0)
    }

    /// `Queries.UPDATE`, `this.SQL`, `com.x.Q.SQL` → a reference to a constant.
    fn const_ref(&self, n: Node<'_>) -> Option<SqlExpr> {
        let t: String = self
            .text(n)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let segs: Vec<&str> = t.split('.').collect();
        if segs.iter().any(|s| !is_ident(s)) {
            return None;
        }
        let last = segs.last()?.to_string();
        let refr = match segs.as_slice() {
            ["this", _] => vec![last],
            [class, _] if *class == self.class_name || *class == "Companion" => vec![last],
            [class, _] if class.starts_with(|c: char| c.is_uppercase()) => {
                match self.ir.imports.get(*class) {
                    Some(full) => match full.rsplit_once('.') {
                        Some((pkg, _)) => vec![pkg.to_string(), last],
                        None => vec![last],
                    },
                    None => vec![last],
                }
            }
            [.., class, _] if class.starts_with(|c: char| c.is_uppercase()) => {
                let pkg = segs.get(..segs.len().saturating_sub(2))?.join(".");
                vec![pkg, last]
            }
            _ => return None,
        };
        Some(vec![Part::Ref(refr)])
    }

    /// String-valued calls: `.formatted(…)`, `String.format(…)`, `.trim()`, `.trimIndent()`.
    fn str_call(&self, n: Node<'_>, depth: usize) -> Option<SqlExpr> {
        let (recv, name, first) = if self.kotlin {
            self.kt_call_parts(n)?
        } else {
            let name = self.text(n.child_by_field_name("name")?);
            let recv = n.child_by_field_name("object");
            let first = n.child_by_field_name("arguments").and_then(|a| {
                let mut cursor = a.walk();
                a.named_children(&mut cursor).next()
            });
            (recv, name, first)
        };
        match name {
            "format" if recv.is_some_and(|r| self.text(r) == "String") => {
                Some(percent_format(self.str_expr(first?, depth + 1)?))
            }
            "formatted" | "format" => Some(percent_format(self.str_expr(recv?, depth + 1)?)),
            "trim" | "strip" | "stripIndent" | "trimIndent" | "trimMargin" | "toString"
            | "intern" => self.str_expr(recv?, depth + 1),
            _ => None,
        }
    }

    /// The pieces of a string literal (Java text blocks, Kotlin templates as holes).
    fn string_parts(&self, n: Node<'_>) -> Option<SqlExpr> {
        let mut out = Vec::new();
        let mut cursor = n.walk();
        for c in n.named_children(&mut cursor) {
            match c.kind() {
                "string_fragment" | "multiline_string_fragment" | "string_content" => {
                    push(&mut out, Part::Lit(self.text(c).to_string()));
                }
                "escape_sequence" => push(&mut out, Part::Lit(unescape(self.text(c)))),
                "interpolation" | "string_interpolation" => push(&mut out, Part::Hole),
                _ => {}
            }
        }
        if self.kotlin {
            out = kotlin_templates(out);
        }
        Some(out)
    }

    /// Whether a statement is a loop over sorted keys, from the iterable's value or text.
    fn is_sorted(&self, val: &Option<Val>, text: &str) -> bool {
        matches!(val, Some(Val::Sorted))
            || text.contains("sorted")
            || text.contains("TreeSet")
            || (is_ident(text) && matches!(self.vars.get(text), Some(Val::Sorted)))
    }
}

/// Whether text is SQL as written (a literal or text block, not just a name).
fn is_literal_sql(e: &SqlExpr) -> bool {
    e.iter()
        .any(|p| matches!(p, Part::Lit(s) if !s.trim().is_empty()))
}

/// Whether a type name is a class worth following (not a primitive, `String`, a boxed number
/// or a collection).
fn is_class_type(t: &str) -> bool {
    const PLAIN: &[&str] = &[
        "String",
        "Long",
        "Integer",
        "Int",
        "Short",
        "Byte",
        "Double",
        "Float",
        "Boolean",
        "Character",
        "Char",
        "Object",
        "Any",
        "BigDecimal",
        "BigInteger",
        "UUID",
        "List",
        "Set",
        "Map",
        "Collection",
        "Iterable",
        "Optional",
        "Instant",
        "LocalDate",
        "LocalDateTime",
        "OffsetDateTime",
        "Unit",
        "Void",
        "var",
        "val",
    ];
    t.starts_with(|c: char| c.is_ascii_uppercase())
        && t.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && !PLAIN.contains(&t.rsplit('.').next().unwrap_or(t))
}

fn is_primitive(t: &str) -> bool {
    matches!(
        t,
        "long" | "int" | "short" | "byte" | "double" | "float" | "boolean" | "char"
    )
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `LedgerEntry` → `ledger_entry`, `accountId` → `account_id`.
pub(crate) fn snake_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let chars: Vec<char> = s.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower = i > 0
                && chars
                    .get(i - 1)
                    .is_some_and(|p| p.is_lowercase() || p.is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars.get(i - 1).is_some_and(|p| p.is_uppercase());
            if i > 0 && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

/// A Java type → an SQL type, roughly.
fn sql_type(t: &str) -> &'static str {
    match t.rsplit('.').next().unwrap_or(t) {
        "long" | "Long" => "bigint",
        "int" | "Integer" | "Int" | "short" | "Short" => "integer",
        "boolean" | "Boolean" => "boolean",
        "BigDecimal" => "numeric",
        "double" | "Double" | "float" | "Float" => "double precision",
        "Instant" | "LocalDateTime" | "OffsetDateTime" | "ZonedDateTime" => "timestamptz",
        "LocalDate" => "date",
        "UUID" => "uuid",
        _ => "text",
    }
}

/// JPA `?1` positional parameters → `$1`.
fn jpa_positional(e: SqlExpr) -> SqlExpr {
    e.into_iter()
        .map(|p| match p {
            Part::Lit(s) if s.contains('?') => {
                let mut out = String::with_capacity(s.len());
                let mut chars = s.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
                        out.push('$');
                    } else {
                        out.push(c);
                    }
                }
                Part::Lit(out)
            }
            other => other,
        })
        .collect()
}

/// Kotlin `$name` templates inside literal text → holes.
fn kotlin_templates(e: SqlExpr) -> SqlExpr {
    let mut out = Vec::new();
    for p in e {
        let Part::Lit(s) = p else {
            push(&mut out, p);
            continue;
        };
        let mut lit = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' && chars.peek().is_some_and(|n| n.is_alphabetic() || *n == '_') {
                while chars
                    .peek()
                    .is_some_and(|n| n.is_alphanumeric() || *n == '_')
                {
                    chars.next();
                }
                if !lit.is_empty() {
                    push(&mut out, Part::Lit(std::mem::take(&mut lit)));
                }
                push(&mut out, Part::Hole);
            } else {
                lit.push(c);
            }
        }
        if !lit.is_empty() {
            push(&mut out, Part::Lit(lit));
        }
    }
    out
}

/// Java/Kotlin escape sequences.
fn unescape(s: &str) -> String {
    match s {
        "\\n" => "\n".into(),
        "\\t" => "\t".into(),
        "\\r" => "\r".into(),
        "\\\"" => "\"".into(),
        "\\'" => "'".into(),
        "\\\\" => "\\".into(),
        "\\$" => "$".into(),
        "\\s" => " ".into(),
        _ => String::new(),
    }
}

/// A Spring Data derived query (`findByEmailAndStatus`, `deleteById`, `findAllByIdIn`) as an
/// ORM statement on the repository's entity, parameters bound by position.
fn derived_query(
    name: &str,
    entity: &str,
    params: &[Param<'_>],
    lock: Option<LockSpec>,
) -> Option<OrmStmt> {
    const PREFIXES: &[&str] = &[
        "find", "read", "get", "query", "search", "stream", "count", "exists", "delete", "remove",
        "lock",
    ];
    let prefix = PREFIXES.iter().find(|p| name.starts_with(**p))?;
    let rest = name.get(prefix.len()..)?;
    let by = rest.find("By")?;
    let criteria = rest.get(by + 2..)?;
    let (criteria, order) = match criteria.find("OrderBy") {
        Some(i) => (criteria.get(..i)?, criteria.get(i + 7..)),
        None => (criteria, None),
    };
    if criteria.contains("Or") && criteria.split("Or").count() > 1 && !criteria.contains("Order") {
        // `findByAOrB`: disjunctions are not keys.
        if criteria.split("And").any(|c| c.contains("Or")) {
            return None;
        }
    }
    let action = if matches!(*prefix, "delete" | "remove") {
        Action::Delete
    } else {
        Action::Select
    };
    let mut stmt = OrmStmt::select(entity.to_string()).with_action(action);
    let mut values = params.iter().map(|p| p.name.clone());
    if !criteria.is_empty() {
        for part in criteria.split("And") {
            let (prop, op, takes) = split_operator(part);
            if prop.is_empty() {
                return None;
            }
            let value = if takes { values.next() } else { None };
            let field = snake_case(prop);
            let field = if field == "id" {
                "pk".to_string()
            } else {
                field
            };
            stmt.filters.push(Filter { field, op, value });
        }
    }
    if let Some(order) = order {
        for o in order.split("And") {
            let o = o
                .strip_suffix("Desc")
                .or_else(|| o.strip_suffix("Asc"))
                .unwrap_or(o);
            if !o.is_empty() {
                stmt.order.push(snake_case(o));
            }
        }
    }
    if action == Action::Select {
        stmt.lock = lock;
    }
    Some(stmt)
}

/// `StatusIn` → (`Status`, `= ANY`, takes a value).
fn split_operator(part: &str) -> (&str, FilterOp, bool) {
    const OPS: &[(&str, FilterOp, bool)] = &[
        ("IsNotNull", FilterOp::Cmp("IS NOT NULL"), false),
        ("IsNull", FilterOp::IsNull, false),
        ("NotNull", FilterOp::Cmp("IS NOT NULL"), false),
        ("Null", FilterOp::IsNull, false),
        ("GreaterThanEqual", FilterOp::Cmp(">="), true),
        ("GreaterThan", FilterOp::Cmp(">"), true),
        ("LessThanEqual", FilterOp::Cmp("<="), true),
        ("LessThan", FilterOp::Cmp("<"), true),
        ("After", FilterOp::Cmp(">"), true),
        ("Before", FilterOp::Cmp("<"), true),
        ("NotIn", FilterOp::Cmp("<> ALL"), true),
        ("In", FilterOp::In, true),
        ("Not", FilterOp::Cmp("<>"), true),
        ("Is", FilterOp::Eq, true),
        ("Equals", FilterOp::Eq, true),
    ];
    for (suffix, op, takes) in OPS {
        if let Some(prop) = part.strip_suffix(suffix)
            && !prop.is_empty()
        {
            return (prop, *op, *takes);
        }
    }
    (part, FilterOp::Eq, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_follows_spring_naming() {
        assert_eq!(snake_case("LedgerEntry"), "ledger_entry");
        assert_eq!(snake_case("accountId"), "account_id");
        assert_eq!(snake_case("Account"), "account");
        assert_eq!(snake_case("HTTPRequest"), "http_request");
    }

    #[test]
    fn derived_queries() {
        let p = |n: &str| Param {
            name: n.into(),
            ty: "Long".into(),
            anns: Vec::new(),
        };
        let s = derived_query("findByEmailAndStatusIn", "User", &[p("e"), p("s")], None);
        let s = s.expect("derived");
        assert_eq!(s.filters.len(), 2);
        assert_eq!(s.filters[1].op, FilterOp::In);
        assert_eq!(s.filters[1].value.as_deref(), Some("s"));
        let d = derived_query("deleteById", "User", &[p("id")], None).expect("delete");
        assert_eq!(d.action, Action::Delete);
        assert_eq!(d.filters[0].field, "pk");
        assert!(derived_query("save", "User", &[p("u")], None).is_none());
    }

    #[test]
    fn kotlin_templates_are_holes() {
        let e = kotlin_templates(vec![Part::Lit("UPDATE t SET a = $x WHERE id = $1".into())]);
        assert_eq!(
            e,
            vec![
                Part::Lit("UPDATE t SET a = ".into()),
                Part::Hole,
                Part::Lit(" WHERE id = $1".into())
            ]
        );
    }
}
