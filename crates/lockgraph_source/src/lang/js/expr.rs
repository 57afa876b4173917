//! Expressions: calls (database methods, transaction scopes, user calls), assignments, SQL
//! text, driver parameters.

use super::{
    INLINE_CALLBACKS, LOOP_CALLBACKS, Link, Lowerer, MAX_CHAIN, QUERY_METHODS, Val, is_function,
    push_branch, unwrap,
};
use crate::ir::{CallTarget, Op, SiteBody};
use crate::lang::common::{self, MAX_DEPTH};
use crate::sqltext::{Arg, Args, Part, SqlExpr, concat, push};
use tree_sitter::Node;

/// Names a knex instance or transaction usually has.
pub(super) const KNEXISH: &[&str] = &[
    "knex",
    "trx",
    "db",
    "tx",
    "k",
    "qb",
    "conn",
    "database",
    "transaction",
];

impl<'s> Lowerer<'s> {
    /// Lowers an expression; returns what it is known to evaluate to.
    pub(super) fn lower_expr(
        &mut self,
        node: Node<'_>,
        ops: &mut Vec<Op>,
        depth: usize,
    ) -> Option<Val> {
        if depth > MAX_DEPTH {
            return None;
        }
        match node.kind() {
            "await_expression"
            | "parenthesized_expression"
            | "non_null_expression"
            | "as_expression"
            | "satisfies_expression"
            | "type_assertion" => {
                let inner = unwrap(node);
                if inner == node {
                    return None;
                }
                // Awaiting a Prisma operation built earlier runs it.
                if inner.kind() == "identifier"
                    && let Some(Val::Lazy(site)) = self.vars.get(self.text(inner))
                {
                    ops.push(Op::Sql(*site));
                    return None;
                }
                self.lower_expr(inner, ops, depth + 1)
            }
            "call_expression" => self.lower_call(node, ops, depth),
            "new_expression" => {
                if let Some(args) = node.child_by_field_name("arguments") {
                    self.lower_args(args, "new", false, ops, depth);
                }
                let c = node.child_by_field_name("constructor")?;
                matches!(c.kind(), "identifier" | "member_expression")
                    .then(|| Val::Inst(self.text(c).to_string()))
            }
            "identifier" => self.vars.get(self.text(node)).cloned(),
            "arrow_function" | "function_expression" | "function" | "generator_function" => {
                self.anonymous(node, "<fn>", depth + 1);
                None
            }
            "class" => {
                self.lower_class(node, depth + 1);
                None
            }
            "ternary_expression" => {
                if let Some(c) = node.child_by_field_name("condition") {
                    self.lower_expr(c, ops, depth + 1);
                }
                let mut arms = Vec::new();
                for f in ["consequence", "alternative"] {
                    let mut arm = Vec::new();
                    if let Some(e) = node.child_by_field_name(f) {
                        self.lower_expr(e, &mut arm, depth + 1);
                    }
                    arms.push(arm);
                }
                push_branch(ops, arms);
                None
            }
            "assignment_expression" => self.lower_assignment(node, ops, depth),
            "augmented_assignment_expression" => {
                if let Some(r) = node.child_by_field_name("right") {
                    self.lower_expr(r, ops, depth + 1);
                }
                if let Some(l) = node.child_by_field_name("left") {
                    self.note_row_attr(l);
                }
                None
            }
            "string" | "number" | "true" | "false" | "null" | "undefined" | "regex" | "comment"
            | "this" | "super" => None,
            _ => {
                let mut cursor = node.walk();
                let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                for c in children {
                    self.lower_expr(c, ops, depth + 1);
                }
                None
            }
        }
    }

    /// `row.balance = …` on a loaded Sequelize row: the attribute is saved by `row.save()`.
    fn note_row_attr(&mut self, left: Node<'_>) {
        if left.kind() != "member_expression" {
            return;
        }
        let (Some(o), Some(p)) = (
            left.child_by_field_name("object"),
            left.child_by_field_name("property"),
        ) else {
            return;
        };
        let prop = self.text(p).to_string();
        if let Some(Val::Row(_, _, attrs)) = self.vars.get_mut(common::text(self.src, o))
            && !attrs.contains(&prop)
        {
            attrs.push(prop);
        }
    }

    fn lower_assignment(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Option<Val> {
        let left = node.child_by_field_name("left")?;
        let right = node.child_by_field_name("right")?;
        if left.kind() == "member_expression" {
            let obj = left.child_by_field_name("object")?;
            let prop = self.text(left.child_by_field_name("property")?).to_string();
            let obj_text = self.text(obj);
            let value = unwrap(right);
            if obj_text == "module" && prop == "exports" {
                self.export_default_value(right, ops, depth);
                return None;
            }
            if obj_text == "exports" || obj_text == "module.exports" {
                if is_function(value) {
                    self.define_function(&prop, value, false, depth);
                } else if value.kind() == "identifier" {
                    let t = self.text(value);
                    if t != prop {
                        let target = self
                            .ir
                            .imports
                            .get(t)
                            .cloned()
                            .unwrap_or_else(|| format!("{}.{t}", self.module));
                        self.ir.imports.insert(prop, target);
                    }
                } else {
                    self.lower_expr(right, ops, depth + 1);
                }
                return None;
            }
            if obj.kind() == "this" {
                if is_function(value) && self.class.is_some() && self.cur != 0 {
                    self.define_function(&prop, value, true, depth);
                    return None;
                }
                let v = self.lower_expr(right, ops, depth + 1);
                if let (Some(Val::Inst(c)), Some(ci)) = (v, self.class)
                    && let Some(ci) = self.ir.classes.get_mut(ci as usize)
                {
                    ci.attrs.insert(prop, c);
                }
                return None;
            }
            self.note_row_attr(left);
            self.lower_expr(right, ops, depth + 1);
            return None;
        }
        let val = match self.eval_str(right, 0) {
            Some(s) if s.iter().any(|p| matches!(p, Part::Lit(_))) => Some(Val::Str(s)),
            _ => self.lower_expr(right, ops, depth + 1),
        };
        self.bind_pattern(left, val.unwrap_or(Val::Unknown), 0);
        self.finish_order(left, right);
        None
    }

    /// Flattens `root.a(x).b(y)` into the root and its links (`None` when too long).
    pub(super) fn flatten<'t>(node: Node<'t>) -> Option<(Node<'t>, Vec<Link<'t>>)> {
        let mut links = Vec::new();
        let mut n = node;
        loop {
            if links.len() > MAX_CHAIN {
                return None;
            }
            match n.kind() {
                "call_expression" => {
                    links.push(Link::Call(n.child_by_field_name("arguments")?));
                    n = n.child_by_field_name("function")?;
                }
                "member_expression" => {
                    links.push(Link::Attr(n.child_by_field_name("property")?));
                    n = n.child_by_field_name("object")?;
                }
                "non_null_expression" | "parenthesized_expression"
                    if n.named_child(0).is_some_and(|c| {
                        matches!(c.kind(), "call_expression" | "member_expression")
                    }) =>
                {
                    n = n.named_child(0)?;
                }
                _ => break,
            }
        }
        links.reverse();
        Some((n, links))
    }

    /// `.m(args)` pairs of a chain from its start, up to the first link that is not one.
    pub(super) fn pairs<'t>(&self, links: &[Link<'t>]) -> Vec<(&'s str, Node<'t>)> {
        let mut out = Vec::new();
        let mut i = 0;
        while let (Some(Link::Attr(a)), Some(Link::Call(args))) = (links.get(i), links.get(i + 1)) {
            out.push((self.text(*a), *args));
            i += 2;
        }
        out
    }

    /// The arguments of a call, without comments.
    pub(super) fn positional<'t>(&self, args: Node<'t>) -> Vec<Node<'t>> {
        if args.kind() != "arguments" {
            return Vec::new();
        }
        let mut cursor = args.walk();
        args.named_children(&mut cursor)
            .filter(|a| a.kind() != "comment")
            .collect()
    }

    fn lower_call(&mut self, node: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Option<Val> {
        let line = common::line(node);
        let (root, links) = Self::flatten(node)?;
        let root_name = match root.kind() {
            "identifier" => Some(self.text(root)),
            "this" => Some("this"),
            _ => None,
        };
        if root_name == Some("require") {
            return None;
        }
        // `ids.sort()`: the array is in key order from here on.
        if let (Some(name), [Link::Attr(a), Link::Call(_)]) = (root_name, links.as_slice())
            && matches!(self.text(*a), "sort")
        {
            self.ordered.seqs.insert(name.to_string());
        }
        if let Some(v) = self.knex_chain(root, root_name, &links, line, ops) {
            return v;
        }
        if let Some(v) = self.prisma_call(root, root_name, &links, line, ops) {
            return v;
        }
        if let Some(v) = self.sequelize_call(root, root_name, &links, line, ops) {
            return v;
        }
        for i in 0..links.len() {
            if let Link::Call(args) = links[i]
                && args.kind() == "template_string"
                && self.tagged_sql(root, root_name, &links[..i], args, line, ops)
            {
                return None;
            }
            if let (Link::Attr(a), Some(Link::Call(args))) = (links[i], links.get(i + 1)) {
                let m = self.text(a);
                let last = i + 2 == links.len();
                if let Some(v) = self.db_method(m, *args, last, line, ops, depth) {
                    return v;
                }
            }
        }
        self.user_call(root, root_name, &links, ops, depth)
    }

    /// `` sql`…` ``, `` prisma.$queryRaw`…` ``: a tagged template run as SQL, substitutions as
    /// parameters. `Prisma.sql` fragments are not run by themselves.
    fn tagged_sql(
        &mut self,
        root: Node<'_>,
        root_name: Option<&str>,
        tag: &[Link<'_>],
        template: Node<'_>,
        line: u32,
        ops: &mut Vec<Op>,
    ) -> bool {
        let last = match tag.last() {
            Some(Link::Attr(a)) => self.text(*a),
            Some(Link::Call(_)) => return false,
            None => match root_name {
                Some(n) if root.kind() == "identifier" => n,
                _ => return false,
            },
        };
        let runs =
            matches!(last, "$queryRaw" | "$executeRaw") || (tag.is_empty() && last != "Prisma");
        if !runs {
            return false;
        }
        let (sql, args) = self.template_parts(template, true);
        let args = Args {
            positional: Some(args.clone()),
            seq: Some(args),
            named: None,
        };
        let site = self.site(line, SiteBody::Raw(sql), Some(args));
        ops.push(Op::Sql(site));
        true
    }

    /// Database methods on any receiver: transaction scopes, `query`/`raw`, `commit`.
    /// `Some(result)` when handled.
    fn db_method(
        &mut self,
        m: &str,
        args: Node<'_>,
        last: bool,
        line: u32,
        ops: &mut Vec<Op>,
        depth: usize,
    ) -> Option<Option<Val>> {
        let pos = self.positional(args);
        match m {
            "transaction" | "$transaction" | "begin" => {
                if let Some(f) = pos.iter().map(|a| unwrap(*a)).find(|a| is_function(*a)) {
                    let saved = self.vars.clone();
                    let body = self.inline_callback(f, depth + 1);
                    self.vars = saved;
                    ops.push(Op::Scope { line, body });
                    return Some(None);
                }
                if m == "$transaction"
                    && let Some(arr) = pos
                        .first()
                        .map(|a| unwrap(*a))
                        .filter(|a| a.kind() == "array")
                {
                    let mut body = Vec::new();
                    let mut c = arr.walk();
                    let items: Vec<Node<'_>> = arr.named_children(&mut c).collect();
                    for item in items {
                        match self.vars.get(self.text(item)) {
                            Some(Val::Lazy(site)) if item.kind() == "identifier" => {
                                body.push(Op::Sql(*site));
                            }
                            _ => {
                                self.lower_expr(item, &mut body, depth + 1);
                            }
                        }
                    }
                    ops.push(Op::Scope { line, body });
                    return Some(None);
                }
                if m == "transaction" && last && pos.iter().all(|a| unwrap(*a).kind() == "object") {
                    // `const t = await sequelize.transaction()` / `knex.transaction()`.
                    ops.push(Op::Begin(line));
                    return Some(Some(Val::Unknown));
                }
                None
            }
            "commit" if pos.is_empty() && last => {
                ops.push(Op::Commit);
                Some(None)
            }
            "rollback" if pos.is_empty() && last => {
                ops.push(Op::Rollback);
                Some(None)
            }
            _ if QUERY_METHODS.contains(&m) => {
                let first = unwrap(*pos.first()?);
                let (sql, params) = if first.kind() == "object" {
                    // `query({ text, values })`.
                    let text = self.object_field(first, "text")?;
                    let sql = self.eval_str(text, 0)?;
                    let values = self
                        .object_field(first, "values")
                        .and_then(|v| self.array_args(v));
                    (
                        sql,
                        values.map(|v| Args {
                            positional: Some(v.clone()),
                            seq: Some(v),
                            named: None,
                        }),
                    )
                } else if first.kind() == "call_expression"
                    && let Some(t) = first.child_by_field_name("arguments")
                    && t.kind() == "template_string"
                {
                    // `$queryRaw(Prisma.sql`…`)`.
                    let (sql, a) = self.template_parts(t, true);
                    (
                        sql,
                        Some(Args {
                            positional: Some(a.clone()),
                            seq: Some(a),
                            named: None,
                        }),
                    )
                } else {
                    let sql = self.eval_str(first, 0)?;
                    (sql, self.query_args(m, &pos))
                };
                for a in pos.iter().skip(1) {
                    self.lower_expr(*a, ops, depth + 1);
                }
                let site = self.site(line, SiteBody::Raw(sql), params);
                ops.push(Op::Sql(site));
                Some(None)
            }
            _ => None,
        }
    }

    /// The parameters a query call passes after its SQL.
    fn query_args(&self, m: &str, pos: &[Node<'_>]) -> Option<Args> {
        if m.ends_with("Unsafe") {
            let rest: Option<Vec<Arg>> = pos.iter().skip(1).map(|a| self.arg_of(*a)).collect();
            return Some(Args {
                positional: rest.clone(),
                seq: rest,
                named: None,
            });
        }
        let second = unwrap(*pos.get(1)?);
        match second.kind() {
            "array" => {
                let items = self.array_args(second);
                Some(Args {
                    positional: items.clone(),
                    seq: items,
                    named: None,
                })
            }
            "object" => {
                let mut out = Args::default();
                // knex `raw(sql, { id })`: named bindings.
                if m == "raw" {
                    out.named = self.object_args(second);
                    return Some(out);
                }
                for key in ["replacements", "bind", "values"] {
                    let Some(v) = self.object_field(second, key).map(unwrap) else {
                        continue;
                    };
                    match v.kind() {
                        "array" => {
                            let items = self.array_args(v);
                            if key != "replacements" {
                                out.positional = items.clone();
                            }
                            if key != "bind" {
                                out.seq = items;
                            }
                        }
                        "object" => out.named = self.object_args(v),
                        _ => {}
                    }
                }
                Some(out)
            }
            _ => None,
        }
    }

    /// Lowers a call's arguments: callbacks run in place (`forEach`, `then`) are inlined (as a
    /// loop for the array methods), other function values become functions of their own.
    pub(super) fn lower_args(
        &mut self,
        args: Node<'_>,
        method: &str,
        sorted_receiver: bool,
        ops: &mut Vec<Op>,
        depth: usize,
    ) {
        for a in self.positional(args) {
            let f = unwrap(a);
            if !is_function(f) {
                self.lower_expr(a, ops, depth + 1);
                continue;
            }
            if LOOP_CALLBACKS.contains(&method) {
                let saved = self.vars.clone();
                let saved_vals = self.ordered.vals.clone();
                if sorted_receiver {
                    if let Some(p) = f.child_by_field_name("parameter").or_else(|| {
                        f.child_by_field_name("parameters")
                            .and_then(|p| p.named_child(0))
                    }) {
                        let mut names = Vec::new();
                        self.pattern_names(p, &mut names, 0);
                        self.ordered.vals.extend(names);
                    }
                    self.ordered.loops += 1;
                }
                let body = self.inline_callback(f, depth + 1);
                if sorted_receiver {
                    self.ordered.loops -= 1;
                }
                self.vars = saved;
                self.ordered.vals = saved_vals;
                if !body.is_empty() {
                    ops.push(Op::Loop(body));
                }
            } else if INLINE_CALLBACKS.contains(&method) {
                let saved = self.vars.clone();
                let body = self.inline_callback(f, depth + 1);
                self.vars = saved;
                ops.extend(body);
            } else {
                self.anonymous(f, method, depth + 1);
            }
        }
    }

    fn user_call(
        &mut self,
        root: Node<'_>,
        root_name: Option<&'s str>,
        links: &[Link<'_>],
        ops: &mut Vec<Op>,
        depth: usize,
    ) -> Option<Val> {
        let mut path: Vec<String> = match root_name {
            Some(n) => vec![n.to_string()],
            None => {
                self.lower_expr(root, ops, depth + 1);
                vec!["?".to_string()]
            }
        };
        for (i, link) in links.iter().enumerate() {
            match link {
                Link::Attr(a) => path.push(self.text(*a).to_string()),
                Link::Call(args) => {
                    let method = path.last().cloned().unwrap_or_default();
                    let receiver_sorted = i >= 1
                        && (links[..i - 1].iter().any(|l| {
                            matches!(l, Link::Attr(a) if matches!(self.text(*a), "sort" | "toSorted"))
                        }) || (i == 1
                            && root_name.is_some_and(|n| self.ordered.seqs.contains(n))));
                    if args.kind() == "arguments" {
                        self.lower_args(*args, &method, receiver_sorted, ops, depth);
                    }
                    if path.first().is_some_and(|f| f != "?")
                        && let Some(target) = self.call_target(&path)
                    {
                        let id = self.call(target, common::line(*args));
                        ops.push(Op::Call(id));
                    } else if path.len() >= 2 && !LOOP_CALLBACKS.contains(&method.as_str()) {
                        let id = self.call(
                            CallTarget::Path(vec!["?".into(), method]),
                            common::line(*args),
                        );
                        ops.push(Op::Call(id));
                    }
                    path = vec!["?".to_string()];
                }
            }
        }
        None
    }

    fn call_target(&self, path: &[String]) -> Option<CallTarget> {
        let strs: Vec<&str> = path.iter().map(String::as_str).collect();
        match strs.as_slice() {
            [] | ["super", ..] => None,
            ["this", m] => Some(CallTarget::SelfMethod((*m).to_string())),
            ["this", a, m] => Some(CallTarget::SelfAttr((*a).to_string(), (*m).to_string())),
            [v, m] if *v != "?" => match self.vars.get(*v) {
                Some(Val::Inst(c)) => Some(CallTarget::ClassMethod(c.clone(), (*m).to_string())),
                Some(_) => Some(CallTarget::Path(vec!["?".into(), (*m).to_string()])),
                None => Some(CallTarget::Path(path.to_vec())),
            },
            [v, .., m] if *v == "this" || *v == "?" || self.vars.contains_key(*v) => {
                Some(CallTarget::Path(vec!["?".into(), (*m).to_string()]))
            }
            _ => Some(CallTarget::Path(path.to_vec())),
        }
    }

    // ----- values -----------------------------------------------------------------------------

    /// The value of a key of an object literal (`{ text: … }`, shorthand `{ text }`).
    pub(super) fn object_field<'t>(&self, obj: Node<'t>, key: &str) -> Option<Node<'t>> {
        let obj = unwrap(obj);
        if obj.kind() != "object" {
            return None;
        }
        let mut c = obj.walk();
        obj.named_children(&mut c).find_map(|m| match m.kind() {
            "pair" => {
                let k = m.child_by_field_name("key")?;
                (self.prop_name(k) == key).then(|| m.child_by_field_name("value"))?
            }
            "shorthand_property_identifier" if self.text(m) == key => Some(m),
            _ => None,
        })
    }

    /// `(key, value node)` of an object literal's plain members (shorthand `{ id }` is
    /// `("id", id)`).
    pub(super) fn object_members<'t>(&self, obj: Node<'t>) -> Vec<(String, Node<'t>)> {
        let obj = unwrap(obj);
        if obj.kind() != "object" {
            return Vec::new();
        }
        let mut c = obj.walk();
        obj.named_children(&mut c)
            .filter_map(|m| match m.kind() {
                "pair" => {
                    let k = m.child_by_field_name("key")?;
                    if k.kind() == "computed_property_name" {
                        return None;
                    }
                    Some((self.prop_name(k), m.child_by_field_name("value")?))
                }
                "shorthand_property_identifier" => Some((self.text(m).to_string(), m)),
                _ => None,
            })
            .collect()
    }

    /// One parameter value: a literal as SQL text, else the expression.
    pub(super) fn arg_of(&self, node: Node<'_>) -> Option<Arg> {
        let node = unwrap(node);
        let lit = |s: &str| Some(Arg::Lit(s.to_string()));
        match node.kind() {
            "number" => lit(self.text(node)),
            "unary_expression"
                if node
                    .child_by_field_name("argument")
                    .is_some_and(|a| a.kind() == "number") =>
            {
                lit(&self.text(node).replace(char::is_whitespace, ""))
            }
            "true" => lit("true"),
            "false" => lit("false"),
            "null" | "undefined" => lit("NULL"),
            "string" | "template_string" => match self.string_value(node) {
                Some(v) => Some(Arg::Lit(format!("'{}'", v.replace('\'', "''")))),
                None => Some(Arg::Expr(self.expr_text(node))),
            },
            "spread_element" => None,
            _ => Some(Arg::Expr(self.expr_text(node))),
        }
    }

    /// The items of an array literal of parameters.
    pub(super) fn array_args(&self, node: Node<'_>) -> Option<Vec<Arg>> {
        let node = unwrap(node);
        if node.kind() != "array" {
            return None;
        }
        let mut c = node.walk();
        node.named_children(&mut c)
            .filter(|i| i.kind() != "comment")
            .map(|i| self.arg_of(i))
            .collect()
    }

    /// The members of an object literal of named parameters.
    fn object_args(&self, node: Node<'_>) -> Option<Vec<(String, Arg)>> {
        let node = unwrap(node);
        let mut c = node.walk();
        if node
            .named_children(&mut c)
            .any(|m| m.kind() == "spread_element")
        {
            return None;
        }
        self.object_members(node)
            .into_iter()
            .map(|(k, v)| Some((k, self.arg_of(v)?)))
            .collect()
    }

    // ----- SQL strings ------------------------------------------------------------------------

    /// The value of a string literal (or a template literal without substitutions).
    pub(super) fn string_value(&self, node: Node<'_>) -> Option<String> {
        let node = unwrap(node);
        match node.kind() {
            "string" => {
                let mut out = String::new();
                let mut c = node.walk();
                for ch in node.named_children(&mut c) {
                    match ch.kind() {
                        "string_fragment" => out.push_str(self.text(ch)),
                        "escape_sequence" => out.push_str(&unescape(self.text(ch))),
                        _ => {}
                    }
                }
                Some(out)
            }
            "template_string" => match self.template_parts(node, false).0.as_slice() {
                [] => Some(String::new()),
                [Part::Lit(s)] => Some(s.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    /// A template literal's pieces. Untagged, a substitution is a hole (a run-time value);
    /// tagged (a driver's `` sql`…` ``), it is a `$n` parameter whose argument is returned.
    pub(super) fn template_parts(&self, node: Node<'_>, tagged: bool) -> (SqlExpr, Vec<Arg>) {
        let mut out = Vec::new();
        let mut args = Vec::new();
        let mut c = node.walk();
        for ch in node.named_children(&mut c) {
            match ch.kind() {
                "string_fragment" => push(&mut out, Part::Lit(self.text(ch).to_string())),
                "escape_sequence" => push(&mut out, Part::Lit(unescape(self.text(ch)))),
                "template_substitution" if tagged => {
                    let arg = ch
                        .named_child(0)
                        .and_then(|e| self.arg_of(e))
                        .unwrap_or_else(|| Arg::Expr(self.text(ch).to_string()));
                    args.push(arg);
                    push(&mut out, Part::Lit(format!("${}", args.len())));
                }
                "template_substitution" => push(&mut out, Part::Hole),
                _ => {}
            }
        }
        (out, args)
    }

    /// The SQL text an expression builds, if it builds text.
    pub(super) fn eval_str(&self, node: Node<'_>, depth: usize) -> Option<SqlExpr> {
        if depth > 48 {
            return None;
        }
        let node = unwrap(node);
        match node.kind() {
            "string" => Some(vec![Part::Lit(self.string_value(node)?)]),
            "template_string" => Some(self.template_parts(node, false).0),
            "binary_expression" => {
                let op = self.text(node.child_by_field_name("operator")?);
                if op != "+" {
                    return None;
                }
                let left = node.child_by_field_name("left")?;
                let right = node.child_by_field_name("right")?;
                match (
                    self.eval_str(left, depth + 1),
                    self.eval_str(right, depth + 1),
                ) {
                    (Some(l), Some(r)) => Some(concat(l, r)),
                    (Some(l), None) => Some(concat(l, vec![Part::Hole])),
                    (None, Some(r)) => Some(concat(vec![Part::Hole], r)),
                    (None, None) => None,
                }
            }
            "identifier" => match self.vars.get(self.text(node)) {
                Some(Val::Str(s)) => Some(s.clone()),
                Some(_) => None,
                None => Some(vec![Part::Ref(vec![self.text(node).to_string()])]),
            },
            "member_expression" => {
                let t = self.text(node);
                if self.ir.consts.contains_key(t) {
                    return Some(vec![Part::Ref(vec![t.to_string()])]);
                }
                let parts: Vec<String> = t.split('.').map(|p| p.trim().to_string()).collect();
                if parts.first().is_some_and(|p| p == "this")
                    || parts.iter().any(|p| {
                        p.is_empty()
                            || !p
                                .chars()
                                .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
                    })
                    || self
                        .vars
                        .contains_key(parts.first().map_or("", String::as_str))
                {
                    return None;
                }
                Some(vec![Part::Ref(parts)])
            }
            "call_expression" => {
                let f = node.child_by_field_name("function")?;
                if f.kind() != "member_expression" {
                    return None;
                }
                let prop = self.text(f.child_by_field_name("property")?);
                let obj = f.child_by_field_name("object")?;
                match prop {
                    "trim" | "trimStart" | "trimEnd" => self.eval_str(obj, depth + 1),
                    "join" => {
                        let obj = unwrap(obj);
                        if obj.kind() != "array" {
                            return None;
                        }
                        let args = node.child_by_field_name("arguments")?;
                        let sep = match self.positional(args).first() {
                            Some(s) => self.string_value(*s)?,
                            None => ",".to_string(),
                        };
                        let mut out = Vec::new();
                        let mut c = obj.walk();
                        let items: Vec<Node<'_>> = obj.named_children(&mut c).collect();
                        for (i, item) in items.into_iter().enumerate() {
                            if i > 0 {
                                push(&mut out, Part::Lit(sep.clone()));
                            }
                            out = concat(out, self.eval_str(item, depth + 1)?);
                        }
                        Some(out)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// Decodes one escape sequence of a string or template literal.
fn unescape(e: &str) -> String {
    let mut chars = e.chars();
    if chars.next() != Some('\\') {
        return e.to_string();
    }
    match chars.next() {
        Some('n') => "\n".into(),
        Some('t') => "\t".into(),
        Some('r') => "\r".into(),
        Some('0') => String::new(),
        Some('\n' | '\r') => String::new(),
        Some('u' | 'x') => " ".into(),
        Some(c) => c.to_string(),
        None => String::new(),
    }
}
