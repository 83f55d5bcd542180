//! A small XML reader on top of quick-xml for the vendor tests: it checks that a file is well formed (one
//! root, every element closed, entities defined, the declaration first) and keeps every element with its
//! attributes, its text and its parent.

use std::collections::BTreeMap;

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

#[derive(Debug)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub parent: Option<usize>,
}

#[derive(Debug)]
pub struct Xml {
    pub elements: Vec<Element>,
}

impl Xml {
    pub fn parse(text: &str) -> Result<Xml, String> {
        let mut reader = quick_xml::Reader::from_str(text);
        reader.config_mut().check_end_names = true;
        let mut elements: Vec<Element> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        let mut roots = 0;
        let mut first = true;
        loop {
            let event = reader
                .read_event()
                .map_err(|e| format!("at {}: {e}", reader.buffer_position()))?;
            if let Event::Decl(_) = event
                && !first
            {
                return Err("the XML declaration is not at the very start".into());
            }
            first = false;
            let mut open =
                |start: &BytesStart<'_>, elements: &mut Vec<Element>| -> Result<usize, String> {
                    if stack.is_empty() {
                        roots += 1;
                    }
                    let mut attrs = Vec::new();
                    for attr in start.attributes() {
                        let attr = attr.map_err(|e| e.to_string())?;
                        let value = attr
                            .normalized_value(XmlVersion::Implicit1_0)
                            .map_err(|e| e.to_string())?;
                        attrs.push((attr.key.as_ref().to_owned(), value.into_owned()));
                    }
                    elements.push(Element {
                        name: start.name().as_ref().to_owned(),
                        attrs,
                        text: String::new(),
                        parent: stack.last().copied(),
                    });
                    Ok(elements.len() - 1)
                };
            match event {
                Event::Start(start) => {
                    let index = open(&start, &mut elements)?;
                    stack.push(index);
                }
                Event::Empty(start) => {
                    open(&start, &mut elements)?;
                }
                Event::End(_) => {
                    stack.pop().ok_or("closing tag without an open element")?;
                }
                Event::Text(t) => match stack.last() {
                    Some(&i) => elements[i].text.push_str(&t.xml10_content()),
                    None if t.xml10_content().trim().is_empty() => {}
                    None => {
                        return Err(format!(
                            "text outside the root element: {:?}",
                            t.xml10_content()
                        ));
                    }
                },
                Event::GeneralRef(r) => {
                    let c = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                        Some(c) => c.to_string(),
                        None => resolve_predefined_entity(&r)
                            .ok_or_else(|| format!("undefined entity &{};", &*r))?
                            .to_owned(),
                    };
                    let &i = stack.last().ok_or("entity outside the root element")?;
                    elements[i].text.push_str(&c);
                }
                Event::CData(_)
                | Event::Comment(_)
                | Event::Decl(_)
                | Event::PI(_)
                | Event::DocType(_) => {}
                Event::Eof => break,
            }
        }
        if !stack.is_empty() {
            return Err(format!("{} element(s) left open", stack.len()));
        }
        if roots != 1 {
            return Err(format!("{roots} root elements"));
        }
        Ok(Xml { elements })
    }

    pub fn root(&self) -> &str {
        &self.elements[0].name
    }

    pub fn attr<'a>(element: &'a Element, name: &str) -> Option<&'a str> {
        element
            .attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every element called `name`.
    pub fn all(&self, name: &str) -> std::vec::IntoIter<(usize, &Element)> {
        let found: Vec<_> = self
            .elements
            .iter()
            .enumerate()
            .filter(|(_, e)| e.name == name)
            .collect();
        found.into_iter()
    }

    /// The text of the only element called `name` with `attr` = `value` (any when `attr` is empty).
    pub fn text(&self, name: &str, attr: &str, value: &str) -> &str {
        let found: Vec<_> = self
            .all(name)
            .filter(|(_, e)| attr.is_empty() || Xml::attr(e, attr) == Some(value))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "<{name} {attr}=\"{value}\">: {} found",
            found.len()
        );
        found[0].1.text.trim()
    }

    /// The text of `name`, a child of element `parent`.
    pub fn child(&self, parent: usize, name: &str) -> &str {
        let found: Vec<_> = self
            .all(name)
            .filter(|(_, e)| e.parent == Some(parent))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "<{name}> in element {parent}: {} found",
            found.len()
        );
        found[0].1.text.trim()
    }

    /// Every attribute of every element, by name (a name used twice must keep one value).
    pub fn attributes(&self) -> BTreeMap<&str, &str> {
        let mut all = BTreeMap::new();
        for (name, value) in self.elements.iter().flat_map(|e| e.attrs.iter()) {
            if let Some(before) = all.insert(name.as_str(), value.as_str()) {
                assert_eq!(
                    before, value,
                    "attribute {name} set twice with different values"
                );
            }
        }
        all
    }

    /// The texts of every element called `name`.
    pub fn texts(&self, name: &str) -> Vec<&str> {
        self.all(name).map(|(_, e)| e.text.trim()).collect()
    }
}

impl Xml {
    /// The names of every element.
    pub fn element_names(&self) -> impl Iterator<Item = &str> {
        self.elements.iter().map(|e| e.name.as_str())
    }

    /// The names of every attribute of every element.
    pub fn attribute_names(&self) -> impl Iterator<Item = &str> {
        self.elements
            .iter()
            .flat_map(|e| e.attrs.iter().map(|(n, _)| n.as_str()))
    }
}
