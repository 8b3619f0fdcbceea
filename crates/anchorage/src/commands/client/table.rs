//! Plain-text tables and value formatting for the client's readable output (anchore-cli's
//! column layout: left-aligned, padded, no borders).

use serde_json::Value;

/// A table: a header and rows of cells.
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub(crate) fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells print empty, extra cells are dropped).
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Sorts the rows by a key.
    pub(crate) fn sort_by_key<K: Ord>(&mut self, key: impl FnMut(&Vec<String>) -> K) {
        self.rows.sort_by_key(key);
    }

    /// The table as text, one line per row, ending with a newline.
    pub(crate) fn render(&self) -> String {
        let n = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().take(n).enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &[String]| {
            let mut text = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map_or("", String::as_str);
                text.push_str(cell);
                if i + 1 < n {
                    let pad = width - cell.chars().count() + 2;
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&self.header);
        for row in &self.rows {
            line(row);
        }
        out
    }

    /// Prints the table on stdout.
    pub(crate) fn print(&self) {
        print!("{}", self.render());
    }
}

/// A JSON value as a cell: strings as is, `null` as `None`, booleans as `True`/`False` (as
/// anchore-cli prints them), lists comma-joined, anything else as JSON.
pub(crate) fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        Value::Object(_) => v.to_string(),
    }
}

/// `key: value` lines, one per pair.
pub(crate) fn fields(pairs: &[(&str, String)]) {
    for (k, v) in pairs {
        println!("{k}: {v}");
    }
}

/// Pretty JSON on stdout.
pub(crate) fn print_json(v: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
}

/// The elements of a JSON list (a single object counts as a list of one, `null` as empty).
pub(crate) fn items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_are_padded_to_the_widest_cell() {
        let mut t = Table::new(&["Name", "Value"]);
        t.row(vec!["a".into(), "1".into()]);
        t.row(vec!["longer name".into(), "2".into()]);
        t.row(vec!["ü".into()]);
        assert_eq!(
            t.render(),
            "Name         Value\na            1\nlonger name  2\nü\n"
        );
    }

    #[test]
    fn cells_print_like_anchore_cli() {
        assert_eq!(cell(&json!(null)), "None");
        assert_eq!(cell(&json!(true)), "True");
        assert_eq!(cell(&json!(["GPL-2.0", "MIT"])), "GPL-2.0, MIT");
        assert_eq!(cell(&json!(12)), "12");
        assert_eq!(items(&json!({"a": 1})).len(), 1);
        assert!(items(&json!(null)).is_empty());
    }
}
