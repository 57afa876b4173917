//! The per-file intermediate form: functions as trees of database-relevant operations.
//!
//! Lowering ([`crate::lower`]) reads one syntax tree into this form and drops the tree; linking
//! ([`crate::link`]) resolves names across files and replays the operations.

use crate::orm::OrmStmt;
use crate::sqltext::{Args, SqlExpr};
use rustc_hash::FxHashMap;

/// One operation of a function body, in execution order.
#[derive(Clone, Debug)]
pub(crate) enum Op {
    /// A statement site runs now.
    Sql(u32),
    /// A statement site is queued in the ORM unit of work (SQLAlchemy `add`/`delete`/attribute
    /// assignment) and runs at the next flush.
    Pending(u32),
    /// The ORM unit of work is flushed (`session.flush()`).
    Flush,
    /// `x.begin()` outside a `with`: a transaction starts here.
    Begin(u32),
    /// `x.commit()`: pending ORM work is flushed, then the transaction ends.
    Commit,
    /// `x.rollback()`: pending ORM work is dropped, the transaction ends.
    Rollback,
    /// A call to a function that may be defined in the scanned tree.
    Call(u32),
    /// A call that is a scanned method when the receiver's class has it, else an ORM statement
    /// (`obj.save()` on an object of an unknown class).
    CallOrSql {
        /// The call.
        call: u32,
        /// The statement site.
        site: u32,
    },
    /// A transaction scope (`with transaction.atomic():`, `async with conn.transaction():`, a
    /// decorator); nested inside an open transaction it is a savepoint and adds nothing.
    Scope {
        /// Line of the `with` or decorator.
        line: u32,
        /// The body.
        body: Vec<Op>,
    },
    /// Alternatives (`if`/`elif`/`else`, `try`/`except`, `match`): exactly one arm runs.
    Branch(Vec<Vec<Op>>),
    /// A loop body (`for`, `while`, comprehensions): its statements are `repeated`.
    Loop(Vec<Op>),
    /// `return` / `raise`: the rest of the function does not run on this path.
    Return,
}

/// What a call names, as far as one file can tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CallTarget {
    /// A dotted name as written (`f`, `repo.update_a`, `pkg.mod.f`); `?` as first part means an
    /// unknown receiver (resolved by method name when unambiguous).
    Path(Vec<String>),
    /// `self.m()` / `cls.m()`.
    SelfMethod(String),
    /// `self.attr.m()` where `attr` was assigned an instance of some class.
    SelfAttr(String, String),
    /// A method on an instance of a class named as written (`r = Repo(); r.m()`).
    ClassMethod(String, String),
}

/// A call site.
#[derive(Clone, Debug)]
pub(crate) struct CallIr {
    /// The function containing the call.
    pub func: u32,
    /// What it calls.
    pub target: CallTarget,
    /// Its line.
    pub line: u32,
}

/// What a statement site holds.
#[derive(Clone, Debug)]
pub(crate) enum SiteBody {
    /// SQL text as the code builds it.
    Raw(SqlExpr),
    /// An ORM call to synthesise SQL for.
    Orm(OrmStmt),
}

/// A place in the code that runs one SQL statement.
#[derive(Clone, Debug)]
pub(crate) struct SiteIr {
    /// 1-based line of the call.
    pub line: u32,
    /// The function containing it.
    pub func: u32,
    /// Runs once per parameter row (`executemany`, `bulk_update`): its locks are `repeated`.
    pub many: bool,
    /// The statement.
    pub body: SiteBody,
    /// Raw SQL: the parameters the call passes, when it shows them.
    pub args: Option<Args>,
    /// Its row locks are taken in a fixed key order: it runs in a loop over sorted keys, or is
    /// keyed on a value of a sorted pair (`first, second = sorted([a, b])`).
    pub ordered: bool,
}

/// A function or method (or a module's top-level code).
#[derive(Clone, Debug)]
pub(crate) struct FuncIr {
    /// Its own name (`transfer`, `<module>`).
    pub name: String,
    /// The class it is a method of.
    pub class: Option<u32>,
    /// The function it is nested in.
    pub parent: Option<u32>,
    /// Human name: `service.transfer`, `OrderService.checkout`.
    pub display: String,
    /// Line of the `def`.
    pub line: u32,
    /// The operations.
    pub body: Vec<Op>,
    /// Calls `commit()`/`rollback()` itself: statements outside a scope are in an implicit
    /// transaction (psycopg2 / SQLAlchemy session autobegin).
    pub autobegin: bool,
    /// Top-level module code (never called).
    pub is_module: bool,
}

/// A class.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClassIr {
    /// Its name.
    pub name: String,
    /// Base classes as written (dotted).
    pub bases: Vec<String>,
    /// Methods by name → function index.
    pub methods: FxHashMap<String, u32>,
    /// `self.attr = SomeClass(...)` seen in any method: attr → class as written.
    pub attrs: FxHashMap<String, String>,
}

/// A field of an ORM model as declared.
#[derive(Clone, Debug, Default)]
pub(crate) struct FieldDecl {
    /// Attribute name.
    pub name: String,
    /// Column name (`<name>_id` for Django relations, `Column("x", …)`, `db_column=`).
    pub column: String,
    /// SQL-ish type.
    pub data_type: String,
    /// `primary_key=True`.
    pub primary_key: bool,
    /// `unique=True` (or a one-to-one field).
    pub unique: bool,
    /// Not nullable.
    pub not_null: bool,
    /// Has a default (or is an auto primary key).
    pub has_default: bool,
    /// Foreign key: the target as written (`Account`, `"bank.Account"`, `"accounts.id"`), the
    /// referenced column if given, and the `ON DELETE` action as written.
    pub fk: Option<(String, Option<String>, String)>,
}

/// Which ORM declared a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OrmKind {
    /// `class X(models.Model)`.
    Django,
    /// `class X(Base): __tablename__ = …`.
    SqlAlchemy,
    /// A model of another language's ORM (JPA entity, ActiveRecord model, …) whose lowering
    /// already worked out the table name (explicit, or by that ORM's naming convention) and
    /// put it in [`ModelDecl::table`].
    Declared,
}

/// A model class as declared.
#[derive(Clone, Debug)]
pub(crate) struct ModelDecl {
    /// Class name.
    pub class: String,
    /// Which ORM.
    pub kind: OrmKind,
    /// `__tablename__` / `Meta.db_table`.
    pub table: Option<String>,
    /// Django app label (from the file path).
    pub app: String,
    /// `Meta.abstract = True`.
    pub is_abstract: bool,
    /// Base classes as written.
    pub bases: Vec<String>,
    /// Fields in declaration order.
    pub fields: Vec<FieldDecl>,
    /// Line of the class.
    pub line: u32,
    /// Not declared here but implied by a use (`Account.lock.find(id)` in Ruby names the
    /// `accounts` table by convention even when `account.rb` is not scanned): used only when no
    /// real declaration of the class exists anywhere.
    pub implied: bool,
}

/// Everything lowering keeps of one file.
#[derive(Clone, Debug, Default)]
pub(crate) struct ModuleIr {
    /// Local name → dotted target (`import x.y as z` → `z: x.y`; `from a import f` → `f: a.f`).
    pub imports: FxHashMap<String, String>,
    /// Functions; index 0 is the module's top-level code.
    pub funcs: Vec<FuncIr>,
    /// Classes.
    pub classes: Vec<ClassIr>,
    /// Module-level string constants.
    pub consts: FxHashMap<String, SqlExpr>,
    /// Module-level instances: name → class as written (`repo = Repo()`).
    pub instances: FxHashMap<String, String>,
    /// Statement sites.
    pub sites: Vec<SiteIr>,
    /// Call sites.
    pub calls: Vec<CallIr>,
    /// ORM models declared here.
    pub models: Vec<ModelDecl>,
}
