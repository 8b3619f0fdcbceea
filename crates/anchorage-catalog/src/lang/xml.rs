//! A small, bounded element tree over quick-xml for the manifests the catalogers read
//! (`.nuspec`, `pom.xml`): element local names, their text and children; attributes, comments
//! and processing instructions are dropped. Never expands external entities (quick-xml does
//! not), and stops with an error past [`MAX_DEPTH`] levels or `max_nodes` elements.

use quick_xml::events::Event;

/// Deepest nesting accepted.
pub(crate) const MAX_DEPTH: usize = 64;

/// One element: local name, trimmed text (direct text of the element only), children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) children: Vec<Node>,
}

impl Node {
    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the first child named `name`, when not empty.
    pub(crate) fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.as_str())
            .filter(|t| !t.is_empty())
    }
}

fn predefined_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => return None,
    })
}

fn local_name(name: &str) -> String {
    match name.rsplit_once(':') {
        Some((_, local)) => local.to_string(),
        None => name.to_string(),
    }
}

/// Parses `input` into its root element. Errors on malformed XML, on more than `max_nodes`
/// elements, and on nesting deeper than [`MAX_DEPTH`].
pub(crate) fn parse(input: &str, max_nodes: usize) -> Result<Node, String> {
    let mut reader = quick_xml::Reader::from_str(input);
    let mut stack: Vec<Node> = Vec::new();
    let mut nodes = 0usize;
    let mut root: Option<Node> = None;
    let open = |stack: &mut Vec<Node>, nodes: &mut usize, raw: &str| -> Result<(), String> {
        *nodes += 1;
        if *nodes > max_nodes {
            return Err(format!("more than {max_nodes} XML elements"));
        }
        if stack.len() >= MAX_DEPTH {
            return Err(format!("XML nested deeper than {MAX_DEPTH} levels"));
        }
        stack.push(Node {
            name: local_name(raw),
            ..Node::default()
        });
        Ok(())
    };
    let close = |stack: &mut Vec<Node>, root: &mut Option<Node>| {
        if let Some(mut node) = stack.pop() {
            node.text = node.text.trim().to_string();
            match stack.last_mut() {
                Some(parent) => parent.children.push(node),
                None => {
                    if root.is_none() {
                        *root = Some(node);
                    }
                }
            }
        }
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => open(&mut stack, &mut nodes, e.local_name().into_inner())?,
            Ok(Event::Empty(e)) => {
                open(&mut stack, &mut nodes, e.local_name().into_inner())?;
                close(&mut stack, &mut root);
            }
            Ok(Event::End(_)) => close(&mut stack, &mut root),
            Ok(Event::Text(t)) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t);
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(top) = stack.last_mut() {
                    if let Some(s) = predefined_entity(&r) {
                        top.text.push_str(s);
                    } else if let Ok(Some(c)) = r.resolve_char_ref() {
                        top.text.push(c);
                    }
                }
            }
            Ok(Event::Eof) => break,
            Err(e) => {
                return Err(format!(
                    "invalid XML at byte {}: {e}",
                    reader.buffer_position()
                ));
            }
            Ok(_) => {}
        }
    }
    root.ok_or_else(|| "no XML root element".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_tree_text_entities_and_namespaces() {
        let n = parse(
            "<?xml version=\"1.0\"?><p:package xmlns:p=\"x\"><metadata><id>A&amp;B</id>\
             <version> 1.0 </version><empty/><d>&#65;<![CDATA[<c>]]></d></metadata></p:package>",
            100,
        )
        .unwrap();
        assert_eq!(n.name, "package");
        assert_eq!(
            n.child("metadata").unwrap().child("id").unwrap().text,
            "A&B"
        );
        assert_eq!(
            n.child("metadata").unwrap().child_text("version"),
            Some("1.0")
        );
        assert_eq!(n.child("metadata").unwrap().child_text("empty"), None);
        assert_eq!(
            n.child("metadata").unwrap().child("d").unwrap().text,
            "A<c>"
        );
    }

    #[test]
    fn synthetic_hostile_depth_and_size_are_errors() {
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep, 1000).unwrap_err().contains("deeper"));
        let wide = format!("<r>{}</r>", "<x/>".repeat(50));
        assert!(parse(&wide, 10).unwrap_err().contains("more than 10"));
        assert!(parse("<a><b></a>", 10).is_err());
        assert!(parse("", 10).is_err());
    }
}
