//! The languages the source front-end reads. Each has a tree-sitter grammar, a module naming
//! (how a file's path becomes the dotted name other files import it by), a line-comment marker
//! for suppressions, and a lowering from its syntax tree to the shared [`ModuleIr`]; linking and
//! replay ([`crate::link`], [`crate::interp`]) are the same for every language.

use crate::ir::ModuleIr;
use std::path::Path;
use tree_sitter::{Language, Node};

pub(crate) mod common;
pub(crate) mod go;
pub(crate) mod java;
pub(crate) mod js;
pub(crate) mod ruby;
pub(crate) mod rust;

/// A language the source front-end reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    /// Python (`*.py`): DB-API drivers, asyncpg, SQLAlchemy, Django.
    Python,
    /// Go (`*.go`): database/sql, pgx, sqlx.
    Go,
    /// Java (`*.java`): JDBC, Spring `JdbcTemplate`, JPA.
    Java,
    /// Kotlin (`*.kt`): the Java libraries.
    Kotlin,
    /// JavaScript (`*.js`, `*.mjs`, `*.cjs`, `*.jsx`): node-postgres, knex, Prisma, Sequelize.
    JavaScript,
    /// TypeScript (`*.ts`, `*.mts`, `*.cts`): as JavaScript.
    TypeScript,
    /// TSX (`*.tsx`): as TypeScript.
    Tsx,
    /// Ruby (`*.rb`): ActiveRecord.
    Ruby,
    /// Rust (`*.rs`): sqlx, tokio-postgres, diesel.
    Rust,
}

impl Lang {
    /// Every language, in a stable order.
    pub const ALL: [Lang; 9] = [
        Lang::Python,
        Lang::Go,
        Lang::Java,
        Lang::Kotlin,
        Lang::JavaScript,
        Lang::TypeScript,
        Lang::Tsx,
        Lang::Ruby,
        Lang::Rust,
    ];

    /// The language of a path, by extension (Python stubs `*.pyi` and TypeScript declarations
    /// `*.d.ts` hold no code and are not read).
    pub fn of(path: &Path) -> Option<Lang> {
        let name = path.file_name()?.to_str()?;
        if name.ends_with(".d.ts") || name.ends_with(".d.mts") || name.ends_with(".d.cts") {
            return None;
        }
        let ext = path.extension()?.to_str()?;
        Some(match ext {
            "py" => Lang::Python,
            "go" => Lang::Go,
            "java" => Lang::Java,
            "kt" => Lang::Kotlin,
            "js" | "mjs" | "cjs" | "jsx" => Lang::JavaScript,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            "rb" => Lang::Ruby,
            "rs" => Lang::Rust,
            _ => return None,
        })
    }

    /// Its usual file extension (one of those [`Lang::of`] reads).
    pub fn extension(self) -> &'static str {
        match self {
            Lang::Python => "py",
            Lang::Go => "go",
            Lang::Java => "java",
            Lang::Kotlin => "kt",
            Lang::JavaScript => "js",
            Lang::TypeScript => "ts",
            Lang::Tsx => "tsx",
            Lang::Ruby => "rb",
            Lang::Rust => "rs",
        }
    }

    /// Its name in messages (`Python`, `Go`, …).
    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "Python",
            Lang::Go => "Go",
            Lang::Java => "Java",
            Lang::Kotlin => "Kotlin",
            Lang::JavaScript => "JavaScript",
            Lang::TypeScript => "TypeScript",
            Lang::Tsx => "TSX",
            Lang::Ruby => "Ruby",
            Lang::Rust => "Rust",
        }
    }

    /// The tree-sitter grammar.
    pub(crate) fn grammar(self) -> Language {
        match self {
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::Go => tree_sitter_go::LANGUAGE.into(),
            Lang::Java => tree_sitter_java::LANGUAGE.into(),
            Lang::Kotlin => tree_sitter_kotlin_ng::LANGUAGE.into(),
            Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Lang::Ruby => tree_sitter_ruby::LANGUAGE.into(),
            Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
        }
    }

    /// What starts a line comment (suppressions are written in one).
    pub fn comment_marker(self) -> &'static str {
        match self {
            Lang::Python | Lang::Ruby => "#",
            _ => "//",
        }
    }

    /// Whether files of the same directory form one module (a Go or Java package), so that
    /// names defined in one are visible in the others without an import.
    pub(crate) fn directory_modules(self) -> bool {
        matches!(self, Lang::Go | Lang::Java | Lang::Kotlin)
    }

    /// The dotted module name of a display path, as the other files of the program name it in
    /// their imports.
    pub(crate) fn module_path(self, name: &str) -> String {
        match self {
            Lang::Python => crate::parse::module_path(name),
            Lang::Go => go::module_path(name),
            Lang::Java | Lang::Kotlin => java::module_path(name),
            Lang::JavaScript | Lang::TypeScript | Lang::Tsx => js::module_path(name),
            Lang::Ruby => ruby::module_path(name),
            Lang::Rust => rust::module_path(name),
        }
    }

    /// Lowers a parsed file (without syntax errors) to the IR.
    pub(crate) fn lower(self, src: &str, path: &str, module: &str, root: Node<'_>) -> ModuleIr {
        match self {
            Lang::Python => {
                let mut l = crate::lower::Lowerer::new(src, path, module.to_string());
                l.lower_module(root);
                l.ir
            }
            Lang::Go => go::lower(src, path, module, root),
            Lang::Java => java::lower(src, path, module, root, false),
            Lang::Kotlin => java::lower(src, path, module, root, true),
            Lang::JavaScript | Lang::TypeScript | Lang::Tsx => js::lower(src, path, module, root),
            Lang::Ruby => ruby::lower(src, path, module, root),
            Lang::Rust => rust::lower(src, path, module, root),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grammar_loads() {
        for lang in Lang::ALL {
            let mut p = tree_sitter::Parser::new();
            assert!(p.set_language(&lang.grammar()).is_ok(), "{lang:?}");
        }
    }

    #[test]
    fn languages_by_extension() {
        let of = |p: &str| Lang::of(Path::new(p));
        assert_eq!(of("a/b.py"), Some(Lang::Python));
        assert_eq!(of("a/b.pyi"), None);
        assert_eq!(of("web/x.tsx"), Some(Lang::Tsx));
        assert_eq!(of("web/types.d.ts"), None);
        assert_eq!(of("svc/main.go"), Some(Lang::Go));
        assert_eq!(of("App.kt"), Some(Lang::Kotlin));
        assert_eq!(of("m.sql"), None);
    }
}
