//! The Java grammar: declarations, statements and expressions read into the shared
//! [`Lowerer`](super::Lowerer)'s calls and operations.

use super::{Ann, CallView, ClassDecl, FieldInfo, Lowerer, MethodDecl, Param, Recv, TypeRef, Val};
use crate::ir::Op;
use crate::lang::common::{self, MAX_DEPTH};
use tree_sitter::Node;

/// Declarations that are classes.
const CLASS_KINDS: &[&str] = &[
    "class_declaration",
    "interface_declaration",
    "enum_declaration",
    "record_declaration",
];

impl Lowerer<'_> {
    /// Lowers a whole Java file.
    pub(super) fn java_file(&mut self, root: Node<'_>) {
        let mut cursor = root.walk();
        let children: Vec<Node<'_>> = root.named_children(&mut cursor).collect();
        for c in children {
            match c.kind() {
                "import_declaration" => {
                    let mut cc = c.walk();
                    let is_static = c.children(&mut cc).any(|k| k.kind() == "static");
                    let wildcard = {
                        let mut cc = c.walk();
                        c.named_children(&mut cc).any(|k| k.kind() == "asterisk")
                    };
                    let mut cc = c.walk();
                    let name = c
                        .named_children(&mut cc)
                        .find(|k| matches!(k.kind(), "scoped_identifier" | "identifier"));
                    if let Some(n) = name
                        && !wildcard
                    {
                        let dotted = self.text(n).to_string();
                        self.import(&dotted, None, is_static);
                    }
                }
                k if CLASS_KINDS.contains(&k) => self.lower_class_node(c, 1),
                _ => {}
            }
        }
    }

    /// Annotations in a `modifiers` node, and whether `public` is there.
    fn java_modifiers<'t>(&self, m: Option<Node<'t>>) -> (Vec<Ann<'t>>, bool, bool) {
        let mut anns = Vec::new();
        let (mut public, mut is_static) = (false, false);
        let Some(m) = m else {
            return (anns, public, is_static);
        };
        let mut cursor = m.walk();
        for c in m.children(&mut cursor) {
            match c.kind() {
                "marker_annotation" | "annotation" => {
                    let name = c
                        .child_by_field_name("name")
                        .map(|n| self.text(n))
                        .unwrap_or("");
                    let mut args = Vec::new();
                    if let Some(list) = c.child_by_field_name("arguments") {
                        let mut lc = list.walk();
                        for a in list.named_children(&mut lc) {
                            if a.kind() == "element_value_pair" {
                                if let (Some(k), Some(v)) =
                                    (a.child_by_field_name("key"), a.child_by_field_name("value"))
                                {
                                    args.push((Some(self.text(k).to_string()), v));
                                }
                            } else if a.kind() != "line_comment" && a.kind() != "block_comment" {
                                args.push((None, a));
                            }
                        }
                    }
                    anns.push(Ann {
                        name: name.rsplit('.').next().unwrap_or(name).to_string(),
                        line: common::line(c),
                        args,
                    });
                }
                "public" => public = true,
                "static" => is_static = true,
                _ => {}
            }
        }
        (anns, public, is_static)
    }

    fn modifiers_of<'t>(n: Node<'t>) -> Option<Node<'t>> {
        let mut cursor = n.walk();
        n.named_children(&mut cursor)
            .find(|c| c.kind() == "modifiers")
    }

    /// A type as written → its simple name and type arguments.
    fn java_type(&self, n: Node<'_>) -> TypeRef {
        match n.kind() {
            "generic_type" => {
                let mut cursor = n.walk();
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                let name = children
                    .iter()
                    .find(|c| c.kind() != "type_arguments")
                    .map(|c| self.java_type(*c).name)
                    .unwrap_or_default();
                let args = children
                    .iter()
                    .find(|c| c.kind() == "type_arguments")
                    .map(|ta| {
                        let mut tc = ta.walk();
                        ta.named_children(&mut tc)
                            .map(|a| self.java_type(a).name)
                            .collect()
                    })
                    .unwrap_or_default();
                TypeRef { name, args }
            }
            _ => {
                let t = self.text(n);
                TypeRef {
                    name: t.rsplit('.').next().unwrap_or(t).trim().to_string(),
                    args: Vec::new(),
                }
            }
        }
    }

    /// Reads a class-like declaration.
    pub(super) fn java_class<'t>(&self, n: Node<'t>, depth: usize) -> Option<ClassDecl<'t>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let name = self.text(n.child_by_field_name("name")?).to_string();
        let interface = n.kind() == "interface_declaration";
        let (anns, _, _) = self.java_modifiers(Self::modifiers_of(n));
        let mut bases = Vec::new();
        let mut cursor = n.walk();
        for c in n.named_children(&mut cursor) {
            match c.kind() {
                "superclass" | "super_interfaces" | "extends_interfaces" => {
                    let mut cc = c.walk();
                    for t in c.named_children(&mut cc) {
                        if t.kind() == "type_list" {
                            let mut tc = t.walk();
                            for ty in t.named_children(&mut tc) {
                                bases.push(self.java_type(ty));
                            }
                        } else {
                            bases.push(self.java_type(t));
                        }
                    }
                }
                _ => {}
            }
        }
        let mut decl = ClassDecl {
            name,
            line: common::line(n),
            anns,
            bases,
            fields: Vec::new(),
            methods: Vec::new(),
            nested: Vec::new(),
        };
        // Record components are fields.
        if let Some(params) = n.child_by_field_name("parameters") {
            let mut pc = params.walk();
            for p in params.named_children(&mut pc) {
                if let (Some(t), Some(nm)) =
                    (p.child_by_field_name("type"), p.child_by_field_name("name"))
                {
                    decl.fields.push(FieldInfo {
                        name: self.text(nm).to_string(),
                        ty: self.java_type(t).name,
                        anns: Vec::new(),
                        init: None,
                    });
                }
            }
        }
        let Some(body) = n.child_by_field_name("body") else {
            return Some(decl);
        };
        let mut members: Vec<Node<'t>> = Vec::new();
        let mut bc = body.walk();
        for m in body.named_children(&mut bc) {
            if m.kind() == "enum_body_declarations" {
                let mut ec = m.walk();
                members.extend(m.named_children(&mut ec));
            } else {
                members.push(m);
            }
        }
        for m in members {
            match m.kind() {
                "field_declaration" | "constant_declaration" => {
                    let (fanns, _, _) = self.java_modifiers(Self::modifiers_of(m));
                    let ty = m
                        .child_by_field_name("type")
                        .map(|t| self.java_type(t).name)
                        .unwrap_or_default();
                    let mut dc = m.walk();
                    let declarators: Vec<Node<'t>> =
                        m.children_by_field_name("declarator", &mut dc).collect();
                    for d in &declarators {
                        let Some(nm) = d.child_by_field_name("name") else {
                            continue;
                        };
                        decl.fields.push(FieldInfo {
                            name: self.text(nm).to_string(),
                            ty: ty.clone(),
                            anns: fanns.clone(),
                            init: d.child_by_field_name("value"),
                        });
                    }
                }
                "method_declaration"
                | "constructor_declaration"
                | "compact_constructor_declaration" => {
                    let (manns, public, _) = self.java_modifiers(Self::modifiers_of(m));
                    let mname = if m.kind() == "method_declaration" {
                        m.child_by_field_name("name")
                            .map(|x| self.text(x).to_string())
                            .unwrap_or_default()
                    } else {
                        "<init>".to_string()
                    };
                    let mut params = Vec::new();
                    if let Some(ps) = m.child_by_field_name("parameters") {
                        let mut pc = ps.walk();
                        for p in ps.named_children(&mut pc) {
                            if !matches!(p.kind(), "formal_parameter" | "spread_parameter") {
                                continue;
                            }
                            let (panns, _, _) = self.java_modifiers(Self::modifiers_of(p));
                            let pname = p
                                .child_by_field_name("name")
                                .map(|x| self.text(x).to_string())
                                .or_else(|| {
                                    let mut c2 = p.walk();
                                    p.named_children(&mut c2)
                                        .filter(|x| x.kind() == "variable_declarator")
                                        .find_map(|v| v.child_by_field_name("name"))
                                        .map(|x| self.text(x).to_string())
                                })
                                .unwrap_or_default();
                            let ty = p
                                .child_by_field_name("type")
                                .map(|t| self.java_type(t).name)
                                .unwrap_or_default();
                            params.push(Param {
                                name: pname,
                                ty,
                                anns: panns,
                            });
                        }
                    }
                    decl.methods.push(MethodDecl {
                        name: mname,
                        line: common::line(m),
                        anns: manns,
                        params,
                        body: m.child_by_field_name("body"),
                        public: public || interface,
                    });
                }
                k if CLASS_KINDS.contains(&k) => decl.nested.push(m),
                _ => {}
            }
        }
        Some(decl)
    }

    // ----- statements --------------------------------------------------------------------------

    fn java_block(&mut self, n: Option<Node<'_>>, depth: usize) -> Vec<Op> {
        let mut ops = Vec::new();
        if let Some(n) = n {
            self.java_stmt(n, &mut ops, depth + 1);
        }
        ops
    }

    /// Lowers one statement (a block: its statements).
    pub(super) fn java_stmt(&mut self, n: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let mut cursor = n.walk();
        match n.kind() {
            "block" | "constructor_body" | "switch_block_statement_group" => {
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                for c in children {
                    self.java_stmt(c, ops, depth + 1);
                }
            }
            "expression_statement" | "parenthesized_expression" => {
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                for c in children {
                    self.java_expr(c, ops, depth + 1);
                }
            }
            "local_variable_declaration" => {
                let ty = n
                    .child_by_field_name("type")
                    .map(|t| self.java_type(t).name)
                    .unwrap_or_default();
                let declarators: Vec<Node<'_>> = n
                    .children_by_field_name("declarator", &mut cursor)
                    .collect();
                for d in declarators {
                    let Some(name) = d.child_by_field_name("name") else {
                        continue;
                    };
                    let value = d.child_by_field_name("value");
                    let val = value.and_then(|v| self.java_expr(v, ops, depth + 1));
                    let name = self.text(name);
                    let ty = (ty != "var").then_some(ty.as_str());
                    self.bind(name, ty, val, value);
                }
            }
            "if_statement" => {
                if let Some(c) = n.child_by_field_name("condition") {
                    self.java_expr(c, ops, depth + 1);
                }
                let arms = vec![
                    self.java_block(n.child_by_field_name("consequence"), depth),
                    self.java_block(n.child_by_field_name("alternative"), depth),
                ];
                push_branch(ops, arms);
            }
            "for_statement" => {
                let inits: Vec<Node<'_>> = n.children_by_field_name("init", &mut cursor).collect();
                for i in inits {
                    self.java_stmt(i, ops, depth + 1);
                }
                let mut body = Vec::new();
                if let Some(c) = n.child_by_field_name("condition") {
                    self.java_expr(c, &mut body, depth + 1);
                }
                if let Some(b) = n.child_by_field_name("body") {
                    self.java_stmt(b, &mut body, depth + 1);
                }
                let mut uc = n.walk();
                let updates: Vec<Node<'_>> = n.children_by_field_name("update", &mut uc).collect();
                for u in updates {
                    self.java_expr(u, &mut body, depth + 1);
                }
                if !body.is_empty() {
                    ops.push(Op::Loop(body));
                }
            }
            "enhanced_for_statement" => {
                let value = n.child_by_field_name("value");
                let val = value.and_then(|v| self.java_expr(v, ops, depth + 1));
                let sorted = value.is_some_and(|v| self.is_sorted(&val, self.text(v)));
                if let Some(name) = n.child_by_field_name("name") {
                    let name = self.text(name).to_string();
                    if sorted {
                        self.vars.insert(name, Val::Ordered);
                    } else {
                        let ty = n
                            .child_by_field_name("type")
                            .map(|t| self.java_type(t).name)
                            .unwrap_or_default();
                        self.bind(&name, Some(&ty), None, None);
                    }
                }
                self.ordered_loops += usize::from(sorted);
                let body = self.java_block(n.child_by_field_name("body"), depth);
                self.ordered_loops -= usize::from(sorted);
                if !body.is_empty() {
                    ops.push(Op::Loop(body));
                }
            }
            "while_statement" | "do_statement" => {
                let mut body = Vec::new();
                if let Some(c) = n.child_by_field_name("condition") {
                    self.java_expr(c, &mut body, depth + 1);
                }
                if let Some(b) = n.child_by_field_name("body") {
                    self.java_stmt(b, &mut body, depth + 1);
                }
                if !body.is_empty() {
                    ops.push(Op::Loop(body));
                }
            }
            "try_statement" | "try_with_resources_statement" => {
                let mut main = Vec::new();
                if let Some(res) = n.child_by_field_name("resources") {
                    let mut rc = res.walk();
                    let resources: Vec<Node<'_>> = res.named_children(&mut rc).collect();
                    for r in resources {
                        let value = r.child_by_field_name("value");
                        let val = value.and_then(|v| self.java_expr(v, &mut main, depth + 1));
                        if let Some(name) = r.child_by_field_name("name") {
                            let ty = r
                                .child_by_field_name("type")
                                .map(|t| self.java_type(t).name);
                            let name = self.text(name);
                            self.bind(name, ty.as_deref(), val, value);
                        } else if value.is_none() {
                            self.java_expr(r, &mut main, depth + 1);
                        }
                    }
                }
                if let Some(b) = n.child_by_field_name("body") {
                    self.java_stmt(b, &mut main, depth + 1);
                }
                let mut handlers = Vec::new();
                let mut finally = Vec::new();
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                for c in children {
                    match c.kind() {
                        "catch_clause" => {
                            handlers.push(self.java_block(c.child_by_field_name("body"), depth));
                        }
                        "finally_clause" => {
                            let mut fc = c.walk();
                            let block = c.named_children(&mut fc).find(|b| b.kind() == "block");
                            finally = self.java_block(block, depth);
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
            }
            "switch_expression" | "switch_statement" => {
                self.java_switch(n, ops, depth);
            }
            "return_statement" | "throw_statement" | "yield_statement" => {
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                for c in children {
                    self.java_expr(c, ops, depth + 1);
                }
                if self.lambdas == 0 && n.kind() != "yield_statement" {
                    ops.push(Op::Return);
                }
            }
            "labeled_statement" | "synchronized_statement" => {
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                for c in children {
                    if c.kind() != "identifier" {
                        self.java_stmt(c, ops, depth + 1);
                    }
                }
            }
            k if CLASS_KINDS.contains(&k) || k == "local_class_declaration" => {}
            "line_comment" | "block_comment" | "break_statement" | "continue_statement" | ";" => {}
            _ => {
                self.java_expr(n, ops, depth + 1);
            }
        }
    }

    fn java_switch(&mut self, n: Node<'_>, ops: &mut Vec<Op>, depth: usize) {
        if let Some(c) = n.child_by_field_name("condition") {
            self.java_expr(c, ops, depth + 1);
        }
        let mut arms = Vec::new();
        let mut default = false;
        if let Some(body) = n.child_by_field_name("body") {
            let mut cursor = body.walk();
            let groups: Vec<Node<'_>> = body.named_children(&mut cursor).collect();
            for g in groups {
                let mut arm = Vec::new();
                let mut gc = g.walk();
                let children: Vec<Node<'_>> = g.named_children(&mut gc).collect();
                for c in children {
                    if c.kind() == "switch_label" {
                        if self.text(c).trim_start().starts_with("default") {
                            default = true;
                        }
                        continue;
                    }
                    self.java_stmt(c, &mut arm, depth + 1);
                }
                arms.push(arm);
            }
        }
        if !default {
            arms.push(Vec::new());
        }
        push_branch(ops, arms);
    }

    // ----- expressions -------------------------------------------------------------------------

    /// Lowers an expression; what it evaluates to.
    pub(super) fn java_expr(
        &mut self,
        n: Node<'_>,
        ops: &mut Vec<Op>,
        depth: usize,
    ) -> Option<Val> {
        if depth > MAX_DEPTH {
            return None;
        }
        match n.kind() {
            "method_invocation" => self.java_call(n, ops, depth),
            "object_creation_expression" => {
                let class = n
                    .child_by_field_name("type")
                    .map(|t| self.java_type(t).name)
                    .unwrap_or_default();
                let args = self.java_args(n);
                for a in &args {
                    if a.kind() != "lambda_expression" {
                        self.java_expr(*a, ops, depth + 1);
                    }
                }
                Some(self.construct(&class, &args))
            }
            "assignment_expression" => {
                let right = n.child_by_field_name("right");
                let val = right.and_then(|r| self.java_expr(r, ops, depth + 1));
                if let Some(left) = n.child_by_field_name("left") {
                    if left.kind() == "identifier" {
                        let op = n
                            .child_by_field_name("operator")
                            .map(|o| self.text(o))
                            .unwrap_or("=");
                        if op == "=" {
                            let name = self.text(left);
                            self.bind(name, None, val, right);
                        }
                    } else {
                        self.java_expr(left, ops, depth + 1);
                    }
                }
                None
            }
            "binary_expression" => {
                let op = n
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                if let Some(l) = n.child_by_field_name("left") {
                    self.java_expr(l, ops, depth + 1);
                }
                if let Some(r) = n.child_by_field_name("right") {
                    if matches!(op, "&&" | "||") {
                        let mut arm = Vec::new();
                        self.java_expr(r, &mut arm, depth + 1);
                        push_branch(ops, vec![arm, Vec::new()]);
                    } else {
                        self.java_expr(r, ops, depth + 1);
                    }
                }
                None
            }
            "ternary_expression" => {
                if let Some(c) = n.child_by_field_name("condition") {
                    self.java_expr(c, ops, depth + 1);
                }
                let mut a = Vec::new();
                let mut b = Vec::new();
                let va = n
                    .child_by_field_name("consequence")
                    .and_then(|x| self.java_expr(x, &mut a, depth + 1));
                let vb = n
                    .child_by_field_name("alternative")
                    .and_then(|x| self.java_expr(x, &mut b, depth + 1));
                push_branch(ops, vec![a, b]);
                va.or(vb)
            }
            "switch_expression" => {
                self.java_switch(n, ops, depth);
                None
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
            "field_access" => {
                let object = n.child_by_field_name("object");
                let field = n.child_by_field_name("field").map(|f| self.text(f));
                if object.is_some_and(|o| o.kind() == "this") {
                    return field
                        .and_then(|f| self.fields.get(f))
                        .filter(|t| super::is_class_type(t))
                        .map(|t| Val::Typed(t.clone()));
                }
                if let Some(o) = object {
                    self.java_expr(o, ops, depth + 1);
                }
                None
            }
            "parenthesized_expression" | "cast_expression" => {
                let mut cursor = n.walk();
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                let mut last = None;
                for c in children {
                    last = self.java_expr(c, ops, depth + 1);
                }
                last
            }
            "lambda_expression" | "method_reference" | "class_literal" | "string_literal" => None,
            _ => {
                let mut cursor = n.walk();
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                for c in children {
                    self.java_expr(c, ops, depth + 1);
                }
                None
            }
        }
    }

    fn java_args<'t>(&self, call: Node<'t>) -> Vec<Node<'t>> {
        let Some(list) = call.child_by_field_name("arguments") else {
            return Vec::new();
        };
        let mut cursor = list.walk();
        list.named_children(&mut cursor)
            .filter(|c| !c.kind().ends_with("comment"))
            .collect()
    }

    fn java_call(&mut self, n: Node<'_>, ops: &mut Vec<Op>, depth: usize) -> Option<Val> {
        let name = self.text(n.child_by_field_name("name")?).to_string();
        let object = n.child_by_field_name("object");
        let (recv, recv_val) = match object {
            None => (Recv::None, None),
            Some(o) => match o.kind() {
                "this" | "super" => (Recv::This, None),
                "identifier" => {
                    let t = self.text(o).to_string();
                    let v = self.vars.get(&t).cloned();
                    (Recv::Name(t), v)
                }
                "field_access"
                    if o.child_by_field_name("object")
                        .is_some_and(|x| x.kind() == "this") =>
                {
                    let f = o
                        .child_by_field_name("field")
                        .map(|f| self.text(f).to_string())
                        .unwrap_or_default();
                    (Recv::ThisField(f), None)
                }
                _ => {
                    let v = self.java_expr(o, ops, depth + 1);
                    (Recv::Expr, v)
                }
            },
        };
        let all = self.java_args(n);
        let (lambdas, args): (Vec<Node<'_>>, Vec<Node<'_>>) = all
            .into_iter()
            .partition(|a| a.kind() == "lambda_expression");
        let view = CallView {
            recv,
            recv_text: object.map(|o| self.text(o).to_string()).unwrap_or_default(),
            recv_val,
            name,
            args,
            named: Vec::new(),
            lambdas,
            line: common::line(n.child_by_field_name("name").unwrap_or(n)),
        };
        self.call(view, ops, depth + 1)
    }

    /// Lowers a lambda's body with its parameters bound to `bound`.
    pub(super) fn java_lambda(
        &mut self,
        l: Node<'_>,
        bound: Option<Val>,
        ops: &mut Vec<Op>,
        depth: usize,
    ) {
        if let Some(p) = l.child_by_field_name("parameters") {
            let names: Vec<String> = if p.kind() == "identifier" {
                vec![self.text(p).to_string()]
            } else {
                let mut cursor = p.walk();
                p.named_children(&mut cursor)
                    .filter_map(|c| match c.kind() {
                        "identifier" => Some(self.text(c).to_string()),
                        _ => c
                            .child_by_field_name("name")
                            .map(|x| self.text(x).to_string()),
                    })
                    .collect()
            };
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
        }
        if let Some(body) = l.child_by_field_name("body") {
            if body.kind() == "block" {
                self.java_stmt(body, ops, depth + 1);
            } else {
                self.java_expr(body, ops, depth + 1);
            }
        }
    }
}

/// Pushes a branch unless every arm is empty.
pub(super) fn push_branch(ops: &mut Vec<Op>, arms: Vec<Vec<Op>>) {
    if arms.iter().any(|a| !a.is_empty()) {
        ops.push(Op::Branch(arms));
    }
}
