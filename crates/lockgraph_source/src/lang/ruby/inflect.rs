//! A small ActiveSupport-style inflector: the table an ActiveRecord model maps to by convention
//! (`LedgerEntry` → `ledger_entries`), the model an association names (`ledger_entries` →
//! `LedgerEntry`), and the constant a `require_relative` path names (`account_repo` →
//! `AccountRepo`). Only the regular English rules plus the common irregular and uncountable
//! words Rails knows are covered; `self.table_name = "…"` is the way out for anything else.

/// Irregular singular/plural pairs (ActiveSupport's list).
const IRREGULAR: &[(&str, &str)] = &[
    ("person", "people"),
    ("man", "men"),
    ("woman", "women"),
    ("child", "children"),
    ("sex", "sexes"),
    ("move", "moves"),
    ("zombie", "zombies"),
    ("tooth", "teeth"),
    ("foot", "feet"),
    ("goose", "geese"),
    ("mouse", "mice"),
    ("louse", "lice"),
    ("ox", "oxen"),
    ("quiz", "quizzes"),
];

/// Words with no distinct plural.
const UNCOUNTABLE: &[&str] = &[
    "equipment",
    "information",
    "rice",
    "money",
    "species",
    "series",
    "fish",
    "sheep",
    "jeans",
    "police",
    "news",
    "metadata",
    "feedback",
    "staff",
    "inventory",
];

/// `LedgerEntry` → `ledger_entry`, `HTTPRequest` → `http_request`, `Billing::Invoice` →
/// `billing/invoice` (as ActiveSupport's `underscore`).
pub(crate) fn underscore(s: &str) -> String {
    let s = s.replace("::", "/");
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '-' {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    out
}

/// `account_repo` → `AccountRepo` (as ActiveSupport's `camelize`; `/` becomes `::`).
pub(crate) fn camelize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, part) in s.split('/').enumerate() {
        if i > 0 {
            out.push_str("::");
        }
        for word in part.split('_').filter(|w| !w.is_empty()) {
            let mut cs = word.chars();
            if let Some(first) = cs.next() {
                out.push(first.to_ascii_uppercase());
                out.extend(cs);
            }
        }
    }
    out
}

/// Replaces the end `from` of `word` with `to` (suffix known to be there).
fn swap(word: &str, from: usize, to: &str) -> String {
    let cut = word.len().saturating_sub(from);
    format!("{}{to}", word.get(..cut).unwrap_or(word))
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// The plural of one lower-case word.
pub(crate) fn pluralize(word: &str) -> String {
    if word.is_empty() || UNCOUNTABLE.contains(&word) {
        return word.to_string();
    }
    for (sing, plur) in IRREGULAR {
        if word == *plur {
            return word.to_string();
        }
        if word == *sing {
            return (*plur).to_string();
        }
        // `salesperson` → `salespeople`.
        if sing.len() > 3 && word.ends_with(sing) {
            return swap(word, sing.len(), plur);
        }
    }
    let before = |n: usize| word.chars().rev().nth(n);
    if ["matrix", "vertex", "index"]
        .iter()
        .any(|w| word.ends_with(w))
    {
        return swap(word, 2, "ices");
    }
    if word.ends_with("ss") || word.ends_with('x') || word.ends_with("ch") || word.ends_with("sh") {
        return format!("{word}es");
    }
    if word.ends_with('y') && (before(1).is_some_and(|c| !is_vowel(c)) || word.ends_with("quy")) {
        return swap(word, 1, "ies");
    }
    if word.ends_with("hive") {
        return format!("{word}s");
    }
    if word.ends_with("fe") && before(2).is_some_and(|c| c != 'f') {
        return swap(word, 2, "ves");
    }
    if word.ends_with("lf") || word.ends_with("rf") {
        return swap(word, 1, "ves");
    }
    if word.ends_with("sis") {
        return swap(word, 2, "es");
    }
    if word.ends_with("tum") || word.ends_with("ium") {
        return swap(word, 2, "a");
    }
    if word.ends_with("buffalo") || word.ends_with("tomato") {
        return format!("{word}es");
    }
    if word.ends_with("bus") || word.ends_with("alias") || word.ends_with("status") {
        return format!("{word}es");
    }
    if word.ends_with("octopus") || word.ends_with("virus") {
        return swap(word, 2, "i");
    }
    if word.ends_with("axis") || word.ends_with("testis") {
        return swap(word, 2, "es");
    }
    if word.ends_with('s') {
        return word.to_string();
    }
    format!("{word}s")
}

/// The singular of one lower-case word (the inverse of [`pluralize`] on the regular rules).
pub(crate) fn singularize(word: &str) -> String {
    if word.is_empty() || UNCOUNTABLE.contains(&word) {
        return word.to_string();
    }
    for (sing, plur) in IRREGULAR {
        if word.ends_with(plur) && (word == *plur || plur.len() > 3) {
            return swap(word, plur.len(), sing);
        }
        if word == *sing {
            return word.to_string();
        }
    }
    let ends = |s: &str| word.ends_with(s);
    if ends("ices") && ["matrices", "vertices", "indices"].iter().any(|w| ends(w)) {
        let stem = swap(word, 4, "");
        return if stem.ends_with("matr") {
            format!("{stem}ix")
        } else {
            format!("{stem}ex")
        };
    }
    if ends("statuses") || ends("aliases") || ends("buses") {
        return swap(word, 2, "");
    }
    if ends("ies") && word.len() > 4 {
        return swap(word, 3, "y");
    }
    if ends("sses") || ends("xes") || ends("ches") || ends("shes") {
        return swap(word, 2, "");
    }
    if ends("ives") && !ends("hives") {
        return swap(word, 3, "fe");
    }
    if ends("lves") || ends("rves") {
        return swap(word, 3, "f");
    }
    if ends("ses") && (ends("bases") || ends("analyses") || ends("crises") || ends("theses")) {
        return swap(word, 2, "is");
    }
    if ends("ss") || ends("us") || ends("is") {
        return word.to_string();
    }
    if ends("s") {
        return swap(word, 1, "");
    }
    word.to_string()
}

/// The table of a model class by Rails' convention: the last constant, underscored, its last
/// word pluralised (`LedgerEntry` → `ledger_entries`, `Billing::Invoice` → `invoices`).
pub(crate) fn table_name(class: &str) -> String {
    let last = class
        .rsplit("::")
        .next()
        .unwrap_or(class)
        .rsplit('.')
        .next()
        .unwrap_or(class);
    let under = underscore(last);
    match under.rsplit_once('_') {
        Some((head, tail)) => format!("{head}_{}", pluralize(tail)),
        None => pluralize(&under),
    }
}

/// The model class an association name stands for (`ledger_entries` → `LedgerEntry`,
/// `account` → `Account`).
pub(crate) fn class_of_association(name: &str) -> String {
    let (head, tail) = match name.rsplit_once('_') {
        Some((h, t)) => (Some(h), t),
        None => (None, name),
    };
    let sing = singularize(tail);
    camelize(&match head {
        Some(h) => format!("{h}_{sing}"),
        None => sing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_by_rails_convention() {
        let cases = [
            ("Account", "accounts"),
            ("LedgerEntry", "ledger_entries"),
            ("Person", "people"),
            ("Category", "categories"),
            ("Status", "statuses"),
            ("Address", "addresses"),
            ("Box", "boxes"),
            ("Match", "matches"),
            ("Wish", "wishes"),
            ("Day", "days"),
            ("Knife", "knives"),
            ("Wolf", "wolves"),
            ("Analysis", "analyses"),
            ("Datum", "data"),
            ("Octopus", "octopi"),
            ("Bus", "buses"),
            ("Quiz", "quizzes"),
            ("Matrix", "matrices"),
            ("Child", "children"),
            ("SalesPerson", "sales_people"),
            ("Sheep", "sheep"),
            ("OrderItem", "order_items"),
            ("HTTPRequest", "http_requests"),
            ("Billing::Invoice", "invoices"),
            ("News", "news"),
        ];
        for (class, table) in cases {
            assert_eq!(table_name(class), table, "{class}");
        }
    }

    #[test]
    fn singular_and_camel() {
        assert_eq!(class_of_association("ledger_entries"), "LedgerEntry");
        assert_eq!(class_of_association("people"), "Person");
        assert_eq!(class_of_association("statuses"), "Status");
        assert_eq!(class_of_association("addresses"), "Address");
        assert_eq!(class_of_association("account"), "Account");
        assert_eq!(class_of_association("boxes"), "Box");
        assert_eq!(class_of_association("wolves"), "Wolf");
        assert_eq!(camelize("account_repo"), "AccountRepo");
        assert_eq!(underscore("AccountRepo"), "account_repo");
    }
}
