//! XML: a small writer for responses and a small tree parser for request bodies.

use quick_xml::events::Event;

use crate::error::S3Error;

/// The S3 XML namespace.
pub const S3_NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Escapes text for element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                out.push_str(&format!("&#{};", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Builds an XML document.
pub struct XmlWriter {
    buf: String,
}

impl XmlWriter {
    /// Starts a document whose root element is `root` in the S3 namespace.
    pub fn new(root: &str) -> XmlWriter {
        XmlWriter::with_ns(root, S3_NS)
    }

    pub fn with_ns(root: &str, ns: &str) -> XmlWriter {
        XmlWriter {
            buf: format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{ns}\">"),
        }
    }

    pub fn open(&mut self, name: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    /// Opens an element with a raw attribute string (already escaped).
    pub fn open_with(&mut self, name: &str, attrs: &str) -> &mut Self {
        self.buf.push_str(&format!("<{name} {attrs}>"));
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
        self
    }

    /// `<name>text</name>`.
    pub fn elem(&mut self, name: &str, text: &str) -> &mut Self {
        self.buf
            .push_str(&format!("<{name}>{}</{name}>", escape(text)));
        self
    }

    /// Escaped text inside the current element.
    pub fn elem_text(&mut self, text: &str) -> &mut Self {
        self.buf.push_str(&escape(text));
        self
    }

    /// `<name>text</name>` when `text` is present.
    pub fn opt(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text {
            self.elem(name, t);
        }
        self
    }

    /// Closes the root and returns the document.
    pub fn finish(mut self, root: &str) -> String {
        self.close(root);
        self.buf
    }
}

/// An element of a parsed request body (names without namespace prefixes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of child `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// An attribute by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    match s.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => s.into_owned(),
    }
}

/// Parses a request body into a tree; any syntax error is `err`.
pub fn parse_with(bytes: &[u8], err: fn() -> S3Error) -> Result<Element, S3Error> {
    let text = std::str::from_utf8(bytes).map_err(|_| err())?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader.read_event().map_err(|_| err())?;
        match event {
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                let _ = e;
                return Err(err());
            }
            Event::Start(e) => {
                if stack.len() > 64 {
                    return Err(err());
                }
                stack.push(element_of(&e)?);
            }
            Event::Empty(e) => {
                let el = element_of(&e)?;
                attach(&mut stack, &mut root, el);
            }
            Event::End(e) => {
                let el = stack.pop().ok_or_else(err)?;
                if el.name != local(e.name().as_ref()) {
                    return Err(err());
                }
                attach(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|_| err())?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(err()),
                }
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|_| err())?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(|_| err())?.map(String::from)
                } else {
                    let name = r.decode().map_err(|_| err())?;
                    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string)
                };
                let s = resolved.ok_or_else(err)?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(err());
    }
    root.ok_or_else(err)
}

/// Parses with `MalformedXML` as the error.
pub fn parse(bytes: &[u8]) -> Result<Element, S3Error> {
    parse_with(bytes, || S3Error::MalformedXml)
}

fn element_of(e: &quick_xml::events::BytesStart<'_>) -> Result<Element, S3Error> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|_| S3Error::MalformedXml)?;
        let value = a.unescape_value().map_err(|_| S3Error::MalformedXml)?;
        attrs.push((local(a.key.as_ref()), value.into_owned()));
    }
    Ok(Element {
        name: local(e.name().as_ref()),
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_elements_entities_and_attributes() {
        let doc = br#"<?xml version="1.0"?>
            <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>
            <Object><Key>a&amp;b &#233;</Key></Object><Object><Key><![CDATA[<x>]]></Key><VersionId>v</VersionId></Object>
            <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"/></Delete>"#;
        let el = parse(doc).unwrap();
        assert_eq!(el.name, "Delete");
        assert_eq!(el.text_of("Quiet"), Some("true"));
        let keys: Vec<&str> = el
            .children_named("Object")
            .filter_map(|o| o.text_of("Key"))
            .collect();
        assert_eq!(keys, ["a&b é", "<x>"]);
        assert_eq!(el.child("Grantee").unwrap().attr("type"), Some("Group"));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            &b""[..],
            b"<a>",
            b"<a></b>",
            b"<a/><b/>",
            b"text",
            b"<a>&bogus;</a>",
            b"\xff",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn writer_escapes() {
        let mut w = XmlWriter::new("R");
        w.elem("Key", "a<&>\"'");
        let s = w.finish("R");
        assert!(s.ends_with("<Key>a&lt;&amp;&gt;&quot;&apos;</Key></R>"));
        assert!(s.contains("xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""));
    }
}
