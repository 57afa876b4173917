//! The Kotlin grammar: declarations, statements and expressions read into the shared
//! [`Lowerer`](super::Lowerer)'s calls and operations.

use super::java_syntax::push_branch;
use super::{Ann, CallView, ClassDecl, FieldInfo, Lowerer, MethodDecl, Param, Recv, TypeRef, Val};
use crate::ir::Op;
use crate::lang::common::{self, MAX_DEPTH};
use tree_sitter::Node;

impl Lowerer<'_> {
    /// Lowers a whole Kotlin file.
    pub(super) fn kt_file(&mut self, root: Node<'_>) {
        let mut cursor = root.walk();
        let children: Vec<Node<'_>> = root.named_children(&mut cursor).collect();
        let mut top = Vec::new();
        for c in children {
            match c.kind() {
                "import" => {
                    let mut cc = c.walk();
                    let parts: Vec<Node<'_>> = c.named_children(&mut cc).collect();
                    let dotted = parts
                        .iter()
                        .find(|p| p.kind() == "qualified_identifier" || p.kind() == "identifier")
                        .map(|p| self.text(*p).to_string());
                    let alias = parts
                        .iter()
                        .skip(1)
                        .find(|p| p.kind() == "identifier")
                        .map(|p| self.text(*p));
                    let wildcard = self.text(c).trim_end().ends_with('*');
                    if let Some(d) = dotted
                        && !wildcard
                    {
                        self.import(&d, alias, false);
                    }
                }
                "class_declaration" | "object_declaration" => self.lower_class_node(c, 1),
                "function_declaration" => {
                    if let Some(m) = self.kt_function(c) {
                        self.lower_method(&m, None, None, 1);
                    }
                }
                "property_declaration" => {
                    if let Some(f) = self.kt_property(c)
                        && let Some(init) = f.init
                        && let Some(e) = self.str_expr(init, 0)
                        && super::is_literal_sql(&e)
                    {
                        self.ir.consts.insert(f.name, e);
                    }
                }
                "package_header" | "line_comment" | "block_comment" | "file_annotation"
                | "shebang_line" => {}
                _ => top.push(c),
            }
        }
        // Script statements: the module's own code.
        let mut ops = Vec::new();
        for c in top {
            self.kt_stmt(c, &mut ops, 1);
        }
        if let Some(f) = self.ir.funcs.get_mut(0) {
            f.body = ops;
        }
    }

    /// Annotations (and whether the declaration is public) from a `modifiers` node.
    fn kt_modifiers<'t>(&self, m: Option<Node<'t>>) -> (Vec<Ann<'t>>, bool) {
        let mut anns = Vec::new();
        let mut public = true;
        let Some(m) = m else {
            return (anns, public);
        };
        let mut cursor = m.walk();
        for c in m.named_children(&mut cursor) {
            match c.kind() {
                "annotation" => anns.extend(self.kt_annotation(c)),
                "visibility_modifier" => {
                    public = !matches!(self.text(c), "private" | "protected" | "internal");
                }
                _ => {}
            }
        }
        (anns, public)
    }

    fn kt_annotation<'t>(&self, a: Node<'t>) -> Option<Ann<'t>> {
        let mut cursor = a.walk();
        let children: Vec<Node<'t>> = a.named_children(&mut cursor).collect();
        let mut name = String::new();
        let mut args = Vec::new();
        for c in children {
            match c.kind() {
                "user_type" => name = self.kt_type(c).name,
                "constructor_invocation" => {
                    let mut cc = c.walk();
                    for p in c.named_children(&mut cc) {
                        match p.kind() {
                            "user_type" => name = self.kt_type(p).name,
                            "value_arguments" => {
                                let mut vc = p.walk();
                                for v in p.named_children(&mut vc) {
                                    if let Some((k, e)) = self.kt_value_argument(v) {
                                        args.push((k, e));
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        (!name.is_empty()).then(|| Ann {
            name,
            line: common::line(a),
            args,
        })
    }

    /// A `value_argument`: its name when written `name = value`, and the value.
    fn kt_value_argument<'t>(&self, v: Node<'t>) -> Option<(Option<String>, Node<'t>)> {
        if v.kind() != "value_argument" {
            return None;
        }
        let mut cursor = v.walk();
        let named = v.children(&mut cursor).any(|c| c.kind() == "=");
        let mut cursor = v.walk();
        let parts: Vec<Node<'t>> = v
            .named_children(&mut cursor)
            .filter(|c| !c.kind().ends_with("comment"))
            .collect();
        let value = *parts.last()?;
        let key = named
            .then(|| parts.first().map(|k| self.text(*k).to_string()))
            .flatten();
        Some((key, value))
    }

    fn kt_type(&self, n: Node<'_>) -> TypeRef {
        match n.kind() {
            "user_type" => {
                let mut cursor = n.walk();
                let mut name = String::new();
                let mut args = Vec::new();
                for c in n.named_children(&mut cursor) {
                    match c.kind() {
                        "identifier" | "type_identifier" => name = self.text(c).to_string(),
                        "type_arguments" => {
                            let mut tc = c.walk();
                            for p in c.named_children(&mut tc) {
                                let mut pc = p.walk();
                                if let Some(t) = p.named_children(&mut pc).find(|x| {
                                    x.kind() == "user_type" || x.kind() == "nullable_type"
                                }) {
                                    args.push(self.kt_type(t).name);
                                }
                            }
                        }
                        _ => {}
                    }
                }
                TypeRef { name, args }
            }
            "nullable_type" | "parenthesized_type" => {
                let mut cursor = n.walk();
                let inner = n.named_children(&mut cursor).next();
                inner.map_or(
                    TypeRef {
                        name: String::new(),
                        args: Vec::new(),
                    },
                    |i| self.kt_type(i),
                )
            }
            _ => TypeRef {
                name: self.text(n).to_string(),
                args: Vec::new(),
            },
        }
    }

    fn kt_child<'t>(n: Node<'t>, kind: &str) -> Option<Node<'t>> {
        let mut cursor = n.walk();
        n.named_children(&mut cursor).find(|c| c.kind() == kind)
    }

    /// The type written in a declaration (`: T`), among its children.
    fn kt_declared_type(&self, n: Node<'_>) -> String {
        let mut cursor = n.walk();
        n.named_children(&mut cursor)
            .find(|c| matches!(c.kind(), "user_type" | "nullable_type"))
            .map(|t| self.kt_type(t).name)
            .unwrap_or_default()
    }

    /// A class, interface or object declaration.
    pub(super) fn kt_class<'t>(&self, n: Node<'t>, depth: usize) -> Option<ClassDecl<'t>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let name = self.text(n.child_by_field_name("name")?).to_string();
        let mut cursor = n.walk();
        let interface = n.children(&mut cursor).any(|c| c.kind() == "interface");
        let (anns, _) = self.kt_modifiers(Self::kt_child(n, "modifiers"));
        let mut decl = ClassDecl {
            name,
            line: common::line(n),
            anns,
            bases: Vec::new(),
            fields: Vec::new(),
            methods: Vec::new(),
            nested: Vec::new(),
        };
        if let Some(ds) = Self::kt_child(n, "delegation_specifiers") {
            let mut dc = ds.walk();
            for d in ds.named_children(&mut dc) {
                let ty = if d.kind() == "delegation_specifier" {
                    let mut c2 = d.walk();
                    d.named_children(&mut c2).next()
                } else {
                    Some(d)
                };
                let Some(ty) = ty else { continue };
                let ty = if ty.kind() == "constructor_invocation" {
                    Self::kt_child(ty, "user_type").unwrap_or(ty)
                } else {
                    ty
                };
                decl.bases.push(self.kt_type(ty));
            }
        }
        if let Some(pc) = Self::kt_child(n, "primary_constructor")
            && let Some(params) = Self::kt_child(pc, "class_parameters")
        {
            let mut cc = params.walk();
            for p in params.named_children(&mut cc) {
                if p.kind() != "class_parameter" {
                    continue;
                }
                let mut c2 = p.walk();
                let is_prop = p
                    .children(&mut c2)
                    .any(|c| matches!(c.kind(), "val" | "var"));
                let Some(id) = Self::kt_child(p, "identifier") else {
                    continue;
                };
                let (panns, _) = self.kt_modifiers(Self::kt_child(p, "modifiers"));
                if is_prop || !panns.is_empty() {
                    decl.fields.push(FieldInfo {
                        name: self.text(id).to_string(),
                        ty: self.kt_declared_type(p),
                        anns: panns,
                        init: None,
                    });
                }
            }
        }
        let body = Self::kt_child(n, "class_body").or_else(|| Self::kt_child(n, "enum_class_body"));
        let Some(body) = body else {
            return Some(decl);
        };
        let mut members: Vec<Node<'t>> = Vec::new();
        let mut bc = body.walk();
        for m in body.named_children(&mut bc) {
            if m.kind() == "companion_object" {
                if let Some(cb) = Self::kt_child(m, "class_body") {
                    let mut c2 = cb.walk();
                    members.extend(cb.named_children(&mut c2));
                }
            } else {
                members.push(m);
            }
        }
        for m in members {
            match m.kind() {
                "property_declaration" => {
                    if let Some(f) = self.kt_property(m) {
                        decl.fields.push(f);
                    }
                }
                "function_declaration" => {
                    if let Some(mut f) = self.kt_function(m) {
                        f.public |= interface;
                        decl.methods.push(f);
                    }
                }
                "secondary_constructor" | "anonymous_initializer" => {
                    if let Some(b) = Self::kt_child(m, "block") {
                        decl.methods.push(MethodDecl {
                            name: "<init>".into(),
                            line: common::line(m),
                            anns: Vec::new(),
                            params: Vec::new(),
                            body: Some(b),
                            public: false,
                        });
                    }
                }
                "class_declaration" | "object_declaration" => decl.nested.push(m),
                _ => {}
            }
        }
        Some(decl)
    }

    /// A property: name, declared type, annotations, initialiser.
    fn kt_property<'t>(&self, n: Node<'t>) -> Option<FieldInfo<'t>> {
        let var = Self::kt_child(n, "variable_declaration")?;
        let name = self.text(Self::kt_child(var, "identifier")?).to_string();
        let (anns, _) = self.kt_modifiers(Self::kt_child(n, "modifiers"));
        let ty = self.kt_declared_type(var);
        Some(FieldInfo {
            name,
            ty,
            anns,
            init: self.kt_property_value(n),
        })
    }

    /// The initialiser of a property declaration (the expression after `=`).
    fn kt_property_value<'t>(&self, n: Node<'t>) -> Option<Node<'t>> {
        let mut cursor = n.walk();
        let mut after_eq = false;
        for c in n.children(&mut cursor) {
            if c.kind() == "=" {
                after_eq = true;
            } else if after_eq && c.is_named() {
                return Some(c);
            }
        }
        None
    }

    fn kt_function<'t>(&self, n: Node<'t>) -> Option<MethodDecl<'t>> {
        let name = self.text(n.child_by_field_name("name")?).to_string();
        let (anns, public) = self.kt_modifiers(Self::kt_child(n, "modifiers"));
        let mut params = Vec::new();
        if let Some(ps) = Self::kt_child(n, "function_value_parameters") {
            let mut cursor = ps.walk();
            let mut pending: Vec<Ann<'t>> = Vec::new();
            for p in ps.named_children(&mut cursor) {
                match p.kind() {
                    "parameter_modifiers" => {
                        let mut pc = p.walk();
                        for a in p.named_children(&mut pc) {
                            if a.kind() == "annotation" {
                                pending.extend(self.kt_annotation(a));
                            }
                        }
                    }
                    "parameter" => {
                        let pname = Self::kt_child(p, "identifier")
                            .map(|i| self.text(i).to_string())
                            .unwrap_or_default();
                        params.push(Param {
                            name: pname,
                            ty: self.kt_declared_type(p),
                            anns: std::mem::take(&mut pending),
                        });
                    }
                    _ => {}
                }
            }
        }
        let body = Self::kt_child(n, "function_body").and_then(|b| {
            let mut cursor = b.walk();
            b.named_children(&mut cursor).next()
        });
        Some(MethodDecl {
            name,
            line: common::line(n),
            anns,
            params,
            body,
            public,
        })
    }

    // ----- statements --------------------------------------------------------------------------

    /// A function body: a block's statements or an expression.
    pub(super) fn kt_body(&mut self, body: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        self.kt_stmt(body, ops, depth);
    }

    fn kt_block(&mut self, n: Option<Node<'_>>, depth: usize) -> Vec<Op> {
        let mut ops = Vec::new();
        if let Some(n) = n {
            self.kt_stmt(n, &mut ops, depth + 1);
        }
        ops
    }

    fn kt_stmt(&mut self, n: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match n.kind() {
            "block" | "statements" | "control_structure_body" => {
                let mut cursor = n.walk();
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                for c in children {
                    self.kt_stmt(c, ops, depth + 1);
                }
            }
            "property_declaration" => {
                let value = self.kt_property_value(n);
                let val = value.and_then(|v| self.kt_expr(v, ops, depth + 1));
                if let Some(var) = Self::kt_child(n, "variable_declaration")
                    && let Some(id) = Self::kt_child(var, "identifier")
                {
                    let ty = self.kt_declared_type(var);
                    let name = self.text(id);
                    let ty = (!ty.is_empty()).then_some(ty.as_str());
                    self.bind(name, ty, val, value);
                }
            }
            "class_declaration" | "object_declaration" | "function_declaration" => {}
            "line_comment" | "block_comment" => {}
            _ => {
                self.kt_expr(n, ops, depth + 1);
            }
        }
    }

    // ----- expressions -------------------------------------------------------------------------

    /// Lowers an expression; what it evaluates to.
    pub(super) fn kt_expr(&mut self, n: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Option<Val> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut cursor = n.walk();
        match n.kind() {
            "call_expression" => self.kt_call(n, ops, depth),
            "assignment" => {
                let right = n.child_by_field_name("right");
                let val = right.and_then(|r| self.kt_expr(r, ops, depth + 1));
                let op = n
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("=");
                if let Some(left) = n.child_by_field_name("left") {
                    match left.kind() {
                        "identifier" if op == "=" => {
                            let name = self.text(left);
                            self.bind(name, None, val, right);
                        }
                        "navigation_expression" => {
                            let mut lc = left.walk();
                            let parts: Vec<Node<'_>> = left.named_children(&mut lc).collect();
                            if let [recv, prop] = parts.as_slice() {
                                let prop = self.text(*prop);
                                let line = common::line(left);
                                if prop == "autoCommit" {
                                    let v = right.map(|r| self.text(r)).unwrap_or("");
                                    self.auto_commit_set(v, line, ops);
                                } else if recv.kind() == "identifier" {
                                    let recv = self.text(*recv).to_string();
                                    self.property_set(&recv, prop, line, ops);
                                }
                            }
                        }
                        _ => {}
                    }
                }
                None
            }
            "if_expression" => {
                let cond = n.child_by_field_name("condition");
                if let Some(c) = cond {
                    self.kt_expr(c, ops, depth + 1);
                }
                let cond_id = cond.map(|c| c.id());
                let rest: Vec<Node<'_>> = n
                    .named_children(&mut cursor)
                    .filter(|c| Some(c.id()) != cond_id && !c.kind().ends_with("comment"))
                    .collect();
                let arms = vec![
                    self.kt_block(rest.first().copied(), depth),
                    self.kt_block(rest.get(1).copied(), depth),
                ];
                push_branch(ops, arms);
                None
            }
            "when_expression" => {
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                let mut arms = Vec::new();
                let mut exhaustive = false;
                for c in children {
                    match c.kind() {
                        "when_subject" => {
                            let mut sc = c.walk();
                            let subject: Vec<Node<'_>> = sc_children(c, &mut sc);
                            for s in subject {
                                self.kt_stmt(s, ops, depth + 1);
                            }
                        }
                        "when_entry" => {
                            let mut ec = c.walk();
                            if c.children(&mut ec).any(|x| x.kind() == "else") {
                                exhaustive = true;
                            }
                            let mut ec = c.walk();
                            let conds: Vec<usize> = c
                                .children_by_field_name("condition", &mut ec)
                                .map(|x| x.id())
                                .collect();
                            let mut ec = c.walk();
                            let body = c
                                .named_children(&mut ec)
                                .filter(|x| !conds.contains(&x.id()))
                                .last();
                            arms.push(self.kt_block(body, depth));
                        }
                        _ => {}
                    }
                }
                if !exhaustive {
                    arms.push(Vec::new());
                }
                push_branch(ops, arms);
                None
            }
            "for_statement" => {
                let children: Vec<Node<'_>> = n
                    .named_children(&mut cursor)
                    .filter(|c| {
                        !matches!(c.kind(), "annotation" | "label")
                            && !c.kind().ends_with("comment")
                    })
                    .collect();
                let decl = children.iter().position(|c| {
                    matches!(
                        c.kind(),
                        "variable_declaration" | "multi_variable_declaration"
                    )
                });
                let iter = decl.and_then(|d| children.get(d + 1)).copied();
                let body = decl.and_then(|d| children.get(d + 2)).copied();
                let val = iter.and_then(|i| self.kt_expr(i, ops, depth + 1));
                let sorted = iter.is_some_and(|i| self.is_sorted(&val, self.text(i)));
                if let Some(d) = decl.and_then(|d| children.get(d))
                    && let Some(id) = Self::kt_child(*d, "identifier")
                {
                    let name = self.text(id).to_string();
                    if sorted {
                        self.vars.insert(name, Val::Ordered);
                    } else {
                        self.vars.remove(&name);
                    }
                }
                self.ordered_loops += usize::from(sorted);
                let body = self.kt_block(body, depth);
                self.ordered_loops -= usize::from(sorted);
                if !body.is_empty() {
                    ops.push(Op::Loop(body));
                }
                None
            }
            "while_statement" | "do_while_statement" => {
                let mut body = Vec::new();
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                for c in children {
                    if c.kind() != "label" {
                        self.kt_stmt(c, &mut body, depth + 1);
                    }
                }
                if !body.is_empty() {
                    ops.push(Op::Loop(body));
                }
                None
            }
            "try_expression" => {
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                let mut main = Vec::new();
                let mut handlers = Vec::new();
                let mut finally = Vec::new();
                for c in children {
                    match c.kind() {
                        "block" => self.kt_stmt(c, &mut main, depth + 1),
                        "catch_block" => {
                            handlers.push(self.kt_block(Self::kt_child(c, "block"), depth));
                        }
                        "finally_block" => {
                            finally = self.kt_block(Self::kt_child(c, "block"), depth);
                        }
                        _ => {}
                    }
                }
                if handlers.is_empty() {
                    ops.extend(main);
                } else {
                    let mut arms = vec![main];
                    arms.extend(handlers);
                    push_branch(ops, arms);
                }
                ops.extend(finally);
                None
            }
            "return_expression" | "throw_expression" => {
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                for c in children {
                    if c.kind() != "label" && c.kind() != "identifier"
                        || n.kind() == "throw_expression"
                    {
                        self.kt_expr(c, ops, depth + 1);
                    }
                }
                if self.lambdas == 0 {
                    ops.push(Op::Return);
                }
                None
            }
            "binary_expression" => {
                let op = n
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                let lv = n
                    .child_by_field_name("left")
                    .and_then(|l| self.kt_expr(l, ops, depth + 1));
                if let Some(r) = n.child_by_field_name("right") {
                    if matches!(op, "&&" | "||" | "?:") {
                        let mut arm = Vec::new();
                        self.kt_expr(r, &mut arm, depth + 1);
                        push_branch(ops, vec![arm, Vec::new()]);
                    } else {
                        self.kt_expr(r, ops, depth + 1);
                    }
                }
                (op == "?:").then_some(lv).flatten()
            }
            "identifier" => {
                let name = self.text(n);
                self.vars.get(name).cloned().or_else(|| {
                    self.fields
                        .get(name)
                        .filter(|t| super::is_class_type(t))
                        .map(|t| Val::Typed(t.clone()))
                })
            }
            "navigation_expression" => {
                let parts: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                if let [recv, field] = parts.as_slice() {
                    if recv.kind() == "this_expression" {
                        return self
                            .fields
                            .get(self.text(*field))
                            .filter(|t| super::is_class_type(t))
                            .map(|t| Val::Typed(t.clone()));
                    }
                    let v = self.kt_expr(*recv, ops, depth + 1);
                    // `opt.get()`-style unwrapping keeps an entity.
                    if matches!(v, Some(Val::Entity(_))) && self.text(*field) == "orElseThrow" {
                        return v;
                    }
                }
                None
            }
            "parenthesized_expression" | "postfix_expression" | "as_expression" => {
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                let mut last = None;
                for c in children {
                    last = self.kt_expr(c, ops, depth + 1);
                }
                last
            }
            "lambda_literal"
            | "annotated_lambda"
            | "object_literal"
            | "string_literal"
            | "multiline_string_literal"
            | "callable_reference" => None,
            _ => {
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                for c in children {
                    self.kt_stmt(c, ops, depth + 1);
                }
                None
            }
        }
    }

    /// `(receiver, method name, first argument)` of a call (for string-valued calls).
    pub(super) fn kt_call_parts<'t>(
        &self,
        n: Node<'t>,
    ) -> Option<(Option<Node<'t>>, &str, Option<Node<'t>>)> {
        let mut cursor = n.walk();
        let callee = n.named_children(&mut cursor).next()?;
        let (recv, name) = match callee.kind() {
            "navigation_expression" => {
                let mut cc = callee.walk();
                let parts: Vec<Node<'t>> = callee.named_children(&mut cc).collect();
                match parts.as_slice() {
                    [r, m] => (Some(*r), self.text(*m)),
                    _ => return None,
                }
            }
            "identifier" => (None, self.text(callee)),
            _ => return None,
        };
        let first = Self::kt_child(n, "value_arguments").and_then(|a| {
            let mut ac = a.walk();
            a.named_children(&mut ac)
                .find_map(|v| self.kt_value_argument(v))
                .map(|(_, e)| e)
        });
        Some((recv, name, first))
    }

    fn kt_call(&mut self, n: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Option<Val> {
        let mut cursor = n.walk();
        let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
        let callee = *children.first()?;
        let (recv_node, name_node) = match callee.kind() {
            "navigation_expression" => {
                let mut cc = callee.walk();
                let parts: Vec<Node<'_>> = callee.named_children(&mut cc).collect();
                match parts.as_slice() {
                    [r, m] => (Some(*r), *m),
                    _ => return None,
                }
            }
            "identifier" => (None, callee),
            _ => {
                // `f(x)(y)`, `(expr)(…)`: lower the parts.
                for c in children {
                    self.kt_expr(c, ops, depth + 1);
                }
                return None;
            }
        };
        let name = self.text(name_node).to_string();
        let (recv, recv_val) = match recv_node {
            None => (Recv::None, None),
            Some(o) => match o.kind() {
                "this_expression" | "super_expression" => (Recv::This, None),
                "identifier" => {
                    let t = self.text(o).to_string();
                    let v = self.vars.get(&t).cloned();
                    (Recv::Name(t), v)
                }
                "navigation_expression" => {
                    let mut oc = o.walk();
                    let parts: Vec<Node<'_>> = o.named_children(&mut oc).collect();
                    match parts.as_slice() {
                        [t, f] if t.kind() == "this_expression" => {
                            (Recv::ThisField(self.text(*f).to_string()), None)
                        }
                        _ => {
                            let v = self.kt_expr(o, ops, depth + 1);
                            (Recv::Expr, v)
                        }
                    }
                }
                _ => {
                    let v = self.kt_expr(o, ops, depth + 1);
                    (Recv::Expr, v)
                }
            },
        };
        let mut args = Vec::new();
        let mut named = Vec::new();
        let mut lambdas = Vec::new();
        for c in &children[1..] {
            match c.kind() {
                "value_arguments" => {
                    let mut ac = c.walk();
                    for v in c.named_children(&mut ac) {
                        if let Some((k, e)) = self.kt_value_argument(v) {
                            if matches!(e.kind(), "lambda_literal" | "annotated_lambda") {
                                lambdas.push(e);
                            } else if let Some(k) = k {
                                named.push((k, e));
                            } else {
                                args.push(e);
                            }
                        }
                    }
                }
                "annotated_lambda" | "lambda_literal" => lambdas.push(*c),
                _ => {}
            }
        }
        // Kotlin named SQL arguments (`update(sql = …)`) lead.
        if let Some(i) = named.iter().position(|(k, _)| k == "sql") {
            let (_, e) = named.remove(i);
            args.insert(0, e);
        }
        let view = CallView {
            recv,
            recv_text: recv_node
                .map(|o| self.text(o).to_string())
                .unwrap_or_default(),
            recv_val,
            name,
            args,
            named,
            lambdas,
            line: common::line(name_node),
        };
        // A constructor call `Foo(…)`: its arguments still run.
        self.call(view, ops, depth + 1)
    }

    /// Lowers a lambda's statements with its parameters (or `it`) bound to `bound`.
    pub(super) fn kt_lambda(
        &mut self,
        l: Node<'_>,
        bound: Option<Val>,
        ops: &mut Vec<Op>,
        depth: usize,
    ) {
        let lit = if l.kind() == "annotated_lambda" {
            match Self::kt_child(l, "lambda_literal") {
                Some(x) => x,
                None => return,
            }
        } else {
            l
        };
        let mut names = Vec::new();
        if let Some(ps) = Self::kt_child(lit, "lambda_parameters") {
            let mut pc = ps.walk();
            for p in ps.named_children(&mut pc) {
                if let Some(id) = Self::kt_child(p, "identifier") {
                    names.push(self.text(id).to_string());
                }
            }
        } else {
            names.push("it".to_string());
        }
        for n in names {
            match &bound {
                Some(v) => {
                    self.vars.insert(n, v.clone());
                }
                None => {
                    self.vars.remove(&n);
                }
            }
        }
        let mut cursor = lit.walk();
        let stmts: Vec<Node<'_>> = lit
            .named_children(&mut cursor)
            .filter(|c| c.kind() != "lambda_parameters")
            .collect();
        for s in stmts {
            self.kt_stmt(s, ops, depth + 1);
        }
    }
}

fn sc_children<'t>(n: Node<'t>, cursor: &mut tree_sitter::TreeCursor<'t>) -> Vec<Node<'t>> {
    n.named_children(cursor).collect()
}
