//! Linking: an index over every parsed file (modules, functions, classes, instances, string
//! constants), call resolution, statement sites turned into [`Statement`]s with their inferred
//! locks, and the set of root functions the interpreter starts from.

use crate::ir::{CallTarget, ModuleIr, SiteBody};
use crate::model::ModelIndex;
use crate::orm::synthesize;
use crate::parse::ParsedFile;
use crate::sqltext::{Part, Rendered, SqlExpr, render_bound};
use lockgraph_core::{Diagnostic, DiagnosticKind, Schema, Statement};
use lockgraph_sql::{Inference, InferenceCache, make_statement};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Method names too common to resolve by name alone (`d.get(...)` is not `Repo.get`).
const COMMON_NAMES: &[&str] = &[
    "get",
    "set",
    "add",
    "update",
    "delete",
    "save",
    "execute",
    "fetch",
    "close",
    "append",
    "extend",
    "items",
    "keys",
    "values",
    "pop",
    "format",
    "join",
    "split",
    "strip",
    "lower",
    "upper",
    "acquire",
    "release",
    "cursor",
    "commit",
    "rollback",
    "begin",
    "filter",
    "all",
    "first",
    "one",
    "send",
    "run",
    "start",
    "stop",
    "read",
    "write",
    "open",
    "copy",
    "sort",
    "remove",
    "insert",
    "clear",
    "count",
    "index",
    "replace",
    "encode",
    "decode",
    "__init__",
    "load",
    "dump",
    "dumps",
    "loads",
    "info",
    "debug",
    "warning",
    "error",
    "exception",
    "log",
    "create",
    "list",
    "map",
    "next",
    "wait",
    "sleep",
    "connect",
    "transaction",
    "scalar",
    "scalars",
    "fetchone",
    "fetchall",
    "fetchrow",
    "fetchval",
    "flush",
    "refresh",
    "merge",
    "query",
    "where",
    "select",
    "setdefault",
    "startswith",
    "endswith",
    "apply",
    "process",
    "handle",
    "call",
    "__enter__",
    "__exit__",
    "__aenter__",
    "__aexit__",
];

/// A statement site after linking.
#[derive(Clone, Debug)]
pub(crate) struct Site {
    pub stmt: Arc<Statement>,
    pub inference: Inference,
    pub many: bool,
    /// Global id of the function the statement is written in.
    pub func: u32,
}

/// Every file's IR plus the indexes built over them.
pub(crate) struct Program<'a> {
    pub files: Vec<&'a ParsedFile>,
    irs: Vec<&'a ModuleIr>,
    func_base: Vec<u32>,
    /// Global function id → (file, local index).
    pub funcs: Vec<(u32, u32)>,
    module_suffix: FxHashMap<String, Vec<u32>>,
    /// The modules as lists of files: a file alone, or every file of a directory for the
    /// languages whose packages are directories (Go, Java, Kotlin). See [`Program::package`].
    packages: Vec<Vec<u32>>,
    /// Per file, its index in `packages`.
    package_of: Vec<u32>,
    top_funcs: Vec<FxHashMap<&'a str, u32>>,
    classes: Vec<FxHashMap<&'a str, u32>>,
    global_funcs: FxHashMap<&'a str, Vec<u32>>,
    global_methods: FxHashMap<&'a str, Vec<u32>>,
    global_classes: FxHashMap<&'a str, Vec<(u32, u32)>>,
    /// Java/Kotlin: last part of a base name as written → the classes naming it as a base (for
    /// dispatching an interface method to its one implementation, see `Program::method`).
    implementors: FxHashMap<&'a str, Vec<(u32, u32)>>,
    /// Per file, per call site: the global function it resolves to.
    pub calls: Vec<Vec<Option<u32>>>,
    /// Per file, per statement site.
    pub sites: Vec<Vec<Option<Site>>>,
    /// Root functions, in file order.
    pub roots: Vec<u32>,
}

impl<'a> Program<'a> {
    /// Indexes the files (skipped ones are left out).
    pub fn new(parsed: &'a [ParsedFile]) -> Self {
        let files: Vec<&ParsedFile> = parsed.iter().filter(|p| p.ir.is_some()).collect();
        let irs: Vec<&ModuleIr> = files.iter().filter_map(|p| p.ir.as_ref()).collect();
        let mut p = Program {
            files,
            irs,
            func_base: Vec::new(),
            funcs: Vec::new(),
            module_suffix: FxHashMap::default(),
            packages: Vec::new(),
            package_of: Vec::new(),
            top_funcs: Vec::new(),
            classes: Vec::new(),
            global_funcs: FxHashMap::default(),
            global_methods: FxHashMap::default(),
            global_classes: FxHashMap::default(),
            implementors: FxHashMap::default(),
            calls: Vec::new(),
            sites: Vec::new(),
            roots: Vec::new(),
        };
        for (fi, ir) in p.irs.iter().enumerate() {
            let fi = fi as u32;
            p.func_base.push(p.funcs.len() as u32);
            let module = &p.files[fi as usize].module;
            let segs: Vec<&str> = module.split('.').collect();
            for k in 0..segs.len() {
                p.module_suffix
                    .entry(segs[k..].join("."))
                    .or_default()
                    .push(fi);
            }
            let mut top = FxHashMap::default();
            for (li, f) in ir.funcs.iter().enumerate() {
                let gid = p.funcs.len() as u32;
                p.funcs.push((fi, li as u32));
                if f.is_module {
                    continue;
                }
                if f.class.is_none() && f.parent.is_none() {
                    top.insert(f.name.as_str(), li as u32);
                    p.global_funcs.entry(f.name.as_str()).or_default().push(gid);
                } else if f.class.is_some() && f.parent.is_none() {
                    p.global_methods
                        .entry(f.name.as_str())
                        .or_default()
                        .push(gid);
                }
            }
            p.top_funcs.push(top);
            let mut classes = FxHashMap::default();
            let dispatches = dispatches(p.files[fi as usize].lang);
            for (ci, c) in ir.classes.iter().enumerate() {
                if dispatches {
                    for b in &c.bases {
                        let base = b.rsplit('.').next().unwrap_or(b);
                        p.implementors
                            .entry(base)
                            .or_default()
                            .push((fi, ci as u32));
                    }
                }
                classes.insert(c.name.as_str(), ci as u32);
                p.global_classes
                    .entry(c.name.as_str())
                    .or_default()
                    .push((fi, ci as u32));
            }
            p.classes.push(classes);
        }
        let mut by_package: FxHashMap<(crate::Lang, &str), u32> = FxHashMap::default();
        for (fi, f) in p.files.iter().enumerate() {
            let index = if f.lang.directory_modules() {
                *by_package
                    .entry((f.lang, f.module.as_str()))
                    .or_insert_with(|| {
                        p.packages.push(Vec::new());
                        p.packages.len() as u32 - 1
                    })
            } else {
                p.packages.push(Vec::new());
                p.packages.len() as u32 - 1
            };
            p.packages[index as usize].push(fi as u32);
            p.package_of.push(index);
        }
        p.calls = (0..p.irs.len() as u32)
            .map(|fi| {
                let ir = p.irs[fi as usize];
                ir.calls
                    .iter()
                    .map(|c| p.resolve_call(fi, c.func, &c.target))
                    .collect()
            })
            .collect();
        p
    }

    pub fn ir(&self, file: u32) -> &'a ModuleIr {
        self.irs[file as usize]
    }

    pub fn gid(&self, file: u32, local: u32) -> u32 {
        self.func_base[file as usize] + local
    }

    pub fn func(&self, gid: u32) -> Option<&'a crate::ir::FuncIr> {
        let (f, l) = *self.funcs.get(gid as usize)?;
        self.irs.get(f as usize)?.funcs.get(l as usize)
    }

    /// The module a dotted name means (its first file when the module is a package of
    /// several files), when the name is not ambiguous.
    fn module(&self, dotted: &str) -> Option<u32> {
        match self.module_suffix.get(dotted).map(Vec::as_slice) {
            Some([one]) => Some(*one),
            Some([first, rest @ ..]) if rest.iter().all(|f| self.package(*first).contains(f)) => {
                Some(*first)
            }
            _ => None,
        }
    }

    /// The files of `file`'s module (`file` itself, or its package's files).
    fn package(&self, file: u32) -> &[u32] {
        &self.packages[self.package_of[file as usize] as usize]
    }

    /// A top-level function of `file`'s module (any file of its package).
    fn top_func(&self, file: u32, name: &str) -> Option<u32> {
        self.package(file).iter().find_map(|&f| {
            self.top_funcs[f as usize]
                .get(name)
                .map(|l| self.gid(f, *l))
        })
    }

    /// A class of `file`'s module (any file of its package).
    fn local_class(&self, file: u32, name: &str) -> Option<(u32, u32)> {
        self.package(file)
            .iter()
            .find_map(|&f| self.classes[f as usize].get(name).map(|c| (f, *c)))
    }

    fn unique<T: Copy>(v: Option<&Vec<T>>) -> Option<T> {
        match v.map(Vec::as_slice) {
            Some([one]) => Some(*one),
            _ => None,
        }
    }

    fn resolve_call(&self, file: u32, caller: u32, target: &CallTarget) -> Option<u32> {
        let ir = self.ir(file);
        let caller_fn = ir.funcs.get(caller as usize)?;
        match target {
            CallTarget::SelfMethod(m) => self.method(file, caller_fn.class?, m, 0),
            CallTarget::SelfAttr(a, m) => {
                let class = ir.classes.get(caller_fn.class? as usize)?;
                let (af, cname) = self.class_attr(file, class, a)?;
                let (cf, ci) = self.class(af, cname, 0)?;
                self.method(cf, ci, m, 0)
            }
            CallTarget::ClassMethod(cname, m) => {
                let (cf, ci) = self.class(file, cname, 0)?;
                self.method(cf, ci, m, 0)
            }
            CallTarget::Path(parts) => {
                let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
                match parts.as_slice() {
                    ["?", m] => self.by_method_name(m),
                    [name] => {
                        let nested = ir.funcs.iter().position(|f| {
                            f.parent == Some(caller) && f.class.is_none() && f.name == *name
                        });
                        if let Some(n) = nested {
                            return Some(self.gid(file, n as u32));
                        }
                        if let Some(g) = self.top_func(file, name) {
                            return Some(g);
                        }
                        if let Some(t) = ir.imports.get(*name) {
                            return self.resolve_dotted(t, &[], 0);
                        }
                        if COMMON_NAMES.contains(name) {
                            return None;
                        }
                        Self::unique(self.global_funcs.get(name))
                    }
                    [first, rest @ ..] => {
                        if self.defines(file, first) {
                            return self.in_module(file, &parts, 0);
                        }
                        if let Some(t) = ir.imports.get(*first) {
                            return self.resolve_dotted(t, rest, 0);
                        }
                        if rest.len() == 1 {
                            return self.by_method_name(rest[0]);
                        }
                        None
                    }
                    [] => None,
                }
            }
        }
    }

    fn by_method_name(&self, m: &str) -> Option<u32> {
        if COMMON_NAMES.contains(&m) {
            return None;
        }
        Self::unique(self.global_methods.get(m))
    }

    fn defines(&self, file: u32, name: &str) -> bool {
        self.package(file).iter().any(|&f| {
            self.top_funcs[f as usize].contains_key(name)
                || self.classes[f as usize].contains_key(name)
                || self.ir(f).instances.contains_key(name)
        })
    }

    /// `parts` relative to module `file`: `f`, `Class.m`, `instance.m`.
    fn in_module(&self, file: u32, parts: &[&str], depth: usize) -> Option<u32> {
        if depth > 8 {
            return None;
        }
        let ir = self.ir(file);
        match parts {
            [f] => self.top_func(file, f).or_else(|| {
                // A name the module itself imported (`from .impl import f` re-exported).
                ir.imports
                    .get(*f)
                    .and_then(|t| self.resolve_dotted(t, &[], depth + 1))
            }),
            [c, m] => {
                if let Some((cf, ci)) = self.local_class(file, c) {
                    return self.method(cf, ci, m, 0);
                }
                if let Some(cname) = ir.instances.get(*c) {
                    let (cf, ci) = self.class(file, cname, 0)?;
                    return self.method(cf, ci, m, 0);
                }
                ir.imports
                    .get(*c)
                    .and_then(|t| self.resolve_dotted(t, &[m], depth + 1))
            }
            _ => None,
        }
    }

    /// A dotted target (`a.b.f`) followed by more attributes.
    fn resolve_dotted(&self, target: &str, rest: &[&str], depth: usize) -> Option<u32> {
        if depth > 8 {
            return None;
        }
        let mut segs: Vec<&str> = target.split('.').collect();
        segs.extend_from_slice(rest);
        for k in (1..=segs.len()).rev() {
            if let Some(m) = self.module(&segs[..k].join(".")) {
                let tail = &segs[k..];
                return if tail.is_empty() {
                    None
                } else {
                    self.in_module(m, tail, depth + 1)
                };
            }
        }
        None
    }

    /// A class named as written in `file` (`Repo`, `repo.Repo`).
    fn class(&self, file: u32, name: &str, depth: usize) -> Option<(u32, u32)> {
        if depth > 8 {
            return None;
        }
        let ir = self.ir(file);
        let segs: Vec<&str> = name.split('.').collect();
        let last = *segs.last()?;
        if segs.len() == 1 {
            if let Some(found) = self.local_class(file, last) {
                return Some(found);
            }
            if let Some(t) = ir.imports.get(last) {
                return self.class_dotted(t, depth + 1);
            }
        } else if let Some(t) = ir.imports.get(segs[0]) {
            let full = format!("{t}.{}", segs[1..].join("."));
            return self.class_dotted(&full, depth + 1);
        }
        Self::unique(self.global_classes.get(last))
    }

    fn class_dotted(&self, dotted: &str, depth: usize) -> Option<(u32, u32)> {
        if depth > 8 {
            return None;
        }
        let (module, last) = dotted.rsplit_once('.')?;
        if let Some(m) = self.module(module) {
            if let Some(found) = self.local_class(m, last) {
                return Some(found);
            }
            if let Some(t) = self.ir(m).imports.get(last) {
                return self.class_dotted(t, depth + 1);
            }
        }
        Self::unique(self.global_classes.get(last))
    }

    fn method(&self, file: u32, class: u32, m: &str, depth: usize) -> Option<u32> {
        if depth > 8 {
            return None;
        }
        let c = self.ir(file).classes.get(class as usize)?;
        if let Some(l) = c.methods.get(m) {
            let gid = self.gid(file, *l);
            // Java/Kotlin: a method declared without a body (an interface or abstract method)
            // runs the implementation of the one scanned class that implements it.
            if dispatches(self.files[file as usize].lang)
                && self.func(gid).is_some_and(|f| f.body.is_empty())
                && let Some(implementation) = self.unique_implementation(file, class, m)
            {
                return Some(implementation);
            }
            return Some(gid);
        }
        // A Go type's methods may be spread over the files of its package (each file has its
        // own class entry for the type); a Python file's package is the file alone.
        for &f in self.package(file) {
            if f != file
                && let Some(ci) = self.classes[f as usize].get(c.name.as_str())
                && let Some(l) = self
                    .ir(f)
                    .classes
                    .get(*ci as usize)
                    .and_then(|o| o.methods.get(m))
            {
                return Some(self.gid(f, *l));
            }
        }
        c.bases.iter().find_map(|b| {
            let (bf, bc) = self.class(file, b, 0)?;
            self.method(bf, bc, m, depth + 1)
        })
    }

    /// The class of field `a` of `class` (declared in `file`), with the file whose imports
    /// name it: the class's own entry, or (Go) an entry of the same type in another file of
    /// the package, where the struct declares its fields.
    fn class_attr(
        &self,
        file: u32,
        class: &'a crate::ir::ClassIr,
        a: &str,
    ) -> Option<(u32, &'a String)> {
        if let Some(c) = class.attrs.get(a) {
            return Some((file, c));
        }
        self.package(file)
            .iter()
            .filter(|f| **f != file)
            .find_map(|&f| {
                let ci = self.classes[f as usize].get(class.name.as_str())?;
                let other = self.ir(f).classes.get(*ci as usize)?;
                other.attrs.get(a).map(|c| (f, c))
            })
    }

    /// Method `m` (defined in the class itself) of the one class that names class `class` of
    /// `file` as a base, when exactly one class does.
    fn unique_implementation(&self, file: u32, class: u32, m: &str) -> Option<u32> {
        let name = self.ir(file).classes.get(class as usize)?.name.as_str();
        let mut found = None;
        for &(f, ci) in self.implementors.get(name)? {
            let c = self.ir(f).classes.get(ci as usize)?;
            let implements = c.bases.iter().any(|b| {
                b.rsplit('.').next() == Some(name) && self.class(f, b, 0) == Some((file, class))
            });
            if !implements || (f, ci) == (file, class) {
                continue;
            }
            if found.is_some() {
                return None;
            }
            found = Some(c.methods.get(m).map(|l| self.gid(f, *l)));
        }
        found.flatten()
    }

    // ----- string constants --------------------------------------------------------------------

    fn constant(&self, file: u32, parts: &[String]) -> Option<(u32, &'a SqlExpr)> {
        let ir = self.ir(file);
        // Any file of the module's package (a Go constant is visible package-wide).
        let lookup = |m: u32, name: &str| {
            self.package(m)
                .iter()
                .find_map(|&f| self.ir(f).consts.get(name).map(|e| (f, e)))
        };
        match parts {
            [name] => lookup(file, name).or_else(|| {
                let t = ir.imports.get(name)?;
                let (module, last) = t.rsplit_once('.')?;
                lookup(self.module(module)?, last)
            }),
            [first, rest @ ..] if rest.len() == 1 => {
                let module = ir
                    .imports
                    .get(first)
                    .cloned()
                    .unwrap_or_else(|| first.clone());
                lookup(self.module(&module)?, &rest[0])
            }
            _ => None,
        }
    }

    /// Replaces references by the constants they name (holes when unknown); `None` when the
    /// expression is nothing but an unknown name (a parameter: not analysable).
    fn resolve_expr(&self, file: u32, expr: &SqlExpr, depth: usize) -> Option<SqlExpr> {
        if let [Part::Ref(r)] = expr.as_slice() {
            let (cf, e) = self.constant(file, r)?;
            return if depth < 8 {
                self.resolve_expr(cf, e, depth + 1)
            } else {
                None
            };
        }
        let mut out = Vec::with_capacity(expr.len());
        for p in expr {
            match p {
                Part::Ref(r) => match self.constant(file, r) {
                    Some((cf, e)) if depth < 8 => match self.resolve_expr(cf, e, depth + 1) {
                        Some(inner) => out.extend(inner),
                        None => out.push(Part::Hole),
                    },
                    _ => out.push(Part::Hole),
                },
                other => out.push(other.clone()),
            }
        }
        Some(out)
    }

    // ----- sites and roots ---------------------------------------------------------------------

    /// Turns every statement site into a statement with its inference; returns diagnostics.
    pub fn build_sites(&mut self, schema: &Schema, models: &ModelIndex) -> Vec<Diagnostic> {
        let mut cache = InferenceCache::new();
        let mut diagnostics = Vec::new();
        let mut all = Vec::with_capacity(self.irs.len());
        // One numbering of Python expressions for the whole program: calls are inlined without
        // data flow, so a helper's `account_id` and its caller's `account_id` must get the same
        // `$n` to be the same row (the same name for the same entity is the working assumption).
        let mut keys: FxHashMap<String, usize> = FxHashMap::default();
        for fi in 0..self.irs.len() as u32 {
            let path = self.files[fi as usize].name.clone();
            let ir = self.ir(fi);
            let mut sites = Vec::with_capacity(ir.sites.len());
            for s in &ir.sites {
                let text = match &s.body {
                    SiteBody::Orm(o) => Some(synthesize(o, models.scoped(&path), &mut keys)),
                    SiteBody::Raw(e) => match self
                        .resolve_expr(fi, e, 0)
                        .map(|e| render_bound(&e, s.args.as_ref(), &mut keys))
                    {
                        Some(Rendered::Sql(t)) => Some(t),
                        Some(Rendered::DynamicRelation(shown)) => {
                            diagnostics.push(Diagnostic {
                                location: lockgraph_core::Location::new(path.clone(), s.line),
                                kind: DiagnosticKind::DynamicRelation,
                                message: "the relation name is built at run time (a variable \
                                          or format field where a table name goes); statement \
                                          skipped"
                                    .into(),
                                statement: Some(lockgraph_sql::redact(&shown)),
                            });
                            None
                        }
                        _ => None,
                    },
                };
                let site = text.map(|text| {
                    let stmt = make_statement(&path, s.line, &text);
                    let mut inference = cache.infer(&text, schema);
                    if s.ordered {
                        mark_ordered(&mut inference);
                    }
                    if let Some((kind, message)) = &inference.problem {
                        diagnostics.push(Diagnostic {
                            location: stmt.location.clone(),
                            kind: *kind,
                            message: message.clone(),
                            statement: Some(stmt.redacted.to_string()),
                        });
                    }
                    Site {
                        stmt,
                        inference,
                        many: s.many,
                        func: self.gid(fi, s.func),
                    }
                });
                sites.push(site);
            }
            all.push(sites);
        }
        self.sites = all;
        diagnostics
    }

    /// Roots: functions no scanned function calls (entry points), plus functions no entry point
    /// reaches (call cycles), in file order.
    pub fn compute_roots(&mut self) {
        let n = self.funcs.len();
        let mut callees: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut called = vec![false; n];
        for (fi, calls) in self.calls.iter().enumerate() {
            let ir = self.irs[fi];
            for (ci, target) in calls.iter().enumerate() {
                let (Some(t), Some(c)) = (target, ir.calls.get(ci)) else {
                    continue;
                };
                let caller = self.func_base[fi] + c.func;
                if caller != *t {
                    called[*t as usize] = true;
                    callees[caller as usize].push(*t);
                }
            }
        }
        let mut reached = vec![false; n];
        let mut stack: Vec<u32> = (0..n as u32).filter(|g| !called[*g as usize]).collect();
        let entries = stack.clone();
        while let Some(g) = stack.pop() {
            if std::mem::replace(&mut reached[g as usize], true) {
                continue;
            }
            stack.extend(callees[g as usize].iter().copied());
        }
        let mut roots = entries;
        roots.extend((0..n as u32).filter(|g| !reached[*g as usize]));
        roots.sort_unstable();
        roots.dedup();
        self.roots = roots;
    }

    /// The statement site `site` of `file`.
    pub fn site(&self, file: u32, site: u32) -> Option<&Site> {
        self.sites.get(file as usize)?.get(site as usize)?.as_ref()
    }

    /// Resolution of call `call` of `file`.
    pub fn call_target(&self, file: u32, call: u32) -> Option<u32> {
        *self.calls.get(file as usize)?.get(call as usize)?
    }

    /// Where a call site is.
    pub fn call_location(&self, file: u32, call: u32) -> Option<lockgraph_core::Location> {
        let line = self.irs.get(file as usize)?.calls.get(call as usize)?.line;
        Some(lockgraph_core::Location::new(
            &*self.files.get(file as usize)?.name,
            line,
        ))
    }

    /// Every statement, in file and line order.
    pub fn statements(&self) -> Vec<Arc<Statement>> {
        let mut out = Vec::new();
        for sites in &self.sites {
            let mut file: Vec<Arc<Statement>> =
                sites.iter().flatten().map(|s| s.stmt.clone()).collect();
            file.sort_by_key(|s| s.location.line);
            out.extend(file);
        }
        out
    }
}

/// Whether calls through an interface dispatch to its one implementation (Java, Kotlin).
fn dispatches(lang: crate::Lang) -> bool {
    matches!(lang, crate::Lang::Java | crate::Lang::Kotlin)
}

/// Marks the row locks a statement names itself as taken in a fixed key order.
fn mark_ordered(inference: &mut Inference) {
    for l in &mut inference.locks {
        if l.implicit.is_none()
            && let lockgraph_core::LockTarget::Rows { key: Some(k), .. } = &mut l.target
        {
            k.ordered = true;
        }
    }
}
