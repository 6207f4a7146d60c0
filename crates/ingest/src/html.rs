//! Sanitised HTML (Mastodon `content`, account notes) turned into plain text.
//!
//! The HTML a Mastodon server sends is already sanitised to a small set of tags, so a small
//! tokenizer is enough: paragraphs and other blocks become text separated by a blank line, `<br>`
//! a newline, links their visible form (mentions `@user`, hashtags `#tag`, other links their full
//! `href`, since Mastodon shortens the visible text with hidden `<span class="invisible">` parts),
//! entities are decoded and every other tag is dropped. The inline quote fallback
//! (`class="quote-inline"`, the `RE: <link>` line that quote-aware clients hide) is left out.

/// Plain text made from HTML, with the links found in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HtmlText {
    /// The text: paragraphs separated by a blank line, entities decoded, trimmed.
    pub text: String,
    /// The `href` of every link that is neither a mention nor a hashtag, in order, without
    /// repeats.
    pub links: Vec<String>,
}

/// What an open `<a>` element turns into when it closes.
struct Anchor {
    href: Option<String>,
    class: String,
    rel: String,
    text: String,
}

/// Converts sanitised HTML to plain text. Text with no `<` at all is taken as plain text, with
/// only its entities decoded.
pub fn to_text(html: &str) -> HtmlText {
    if !html.contains('<') {
        return HtmlText {
            text: html_escape::decode_html_entities(html).trim().to_owned(),
            links: Vec::new(),
        };
    }
    let mut out = Converter::default();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.text(rest.get(..open).unwrap_or_default());
        let after = rest.get(open..).unwrap_or_default();
        match after.find('>') {
            Some(close) => {
                out.tag(after.get(1..close).unwrap_or_default());
                rest = after.get(close + 1..).unwrap_or_default();
            }
            None => {
                out.text(after);
                rest = "";
            }
        }
    }
    out.text(rest);
    out.finish()
}

#[derive(Default)]
struct Converter {
    text: String,
    links: Vec<String>,
    anchor: Option<Anchor>,
    /// While inside an element whose content is left out: its name and nesting depth.
    skipping: Option<(String, usize)>,
    /// A paragraph break is owed before the next text.
    pending_break: Option<&'static str>,
}

impl Converter {
    fn text(&mut self, raw: &str) {
        if raw.is_empty() || self.skipping.is_some() {
            return;
        }
        let decoded = html_escape::decode_html_entities(raw);
        let collapsed = collapse_whitespace(&decoded);
        if collapsed.is_empty() {
            return;
        }
        if let Some(anchor) = &mut self.anchor {
            anchor.text.push_str(&collapsed);
        } else {
            self.push(&collapsed);
        }
    }

    fn push(&mut self, text: &str) {
        if let Some(separator) = self.pending_break.take()
            && !self.text.is_empty()
        {
            while self.text.ends_with(' ') {
                self.text.pop();
            }
            self.text.push_str(separator);
        }
        if self.text.ends_with('\n') || self.text.is_empty() {
            self.text.push_str(text.trim_start());
        } else {
            self.text.push_str(text);
        }
    }

    fn tag(&mut self, inside: &str) {
        let inside = inside.trim();
        if inside.starts_with('!') || inside.starts_with('?') {
            return;
        }
        let closing = inside.starts_with('/');
        let body = inside.trim_start_matches('/').trim_end_matches('/');
        let name_end = body.find(|c: char| c.is_whitespace()).unwrap_or(body.len());
        let name = body
            .get(..name_end)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let attributes = body.get(name_end..).unwrap_or_default();

        if let Some((skipped, depth)) = &mut self.skipping {
            if *skipped == name {
                if closing {
                    *depth -= 1;
                } else if !is_void(&name) {
                    *depth += 1;
                }
                if *depth == 0 {
                    self.skipping = None;
                }
            }
            return;
        }
        if closing {
            self.close(&name);
            return;
        }
        let class = attribute(attributes, "class").unwrap_or_default();
        if class.split_whitespace().any(|c| c == "quote-inline") && !is_void(&name) {
            self.skipping = Some((name, 1));
            return;
        }
        if matches!(name.as_str(), "script" | "style") {
            self.skipping = Some((name, 1));
            return;
        }
        match name.as_str() {
            "br" => {
                self.pending_break = None;
                if let Some(anchor) = &mut self.anchor {
                    anchor.text.push(' ');
                } else {
                    while self.text.ends_with(' ') {
                        self.text.pop();
                    }
                    self.text.push('\n');
                }
            }
            "a" => {
                self.anchor = Some(Anchor {
                    href: attribute(attributes, "href"),
                    class,
                    rel: attribute(attributes, "rel").unwrap_or_default(),
                    text: String::new(),
                });
            }
            "li" => self.block_break("\n"),
            name if is_block(name) => self.block_break("\n\n"),
            _ => {}
        }
    }

    fn block_break(&mut self, separator: &'static str) {
        if !self.text.is_empty() {
            self.pending_break = Some(match self.pending_break {
                Some("\n\n") => "\n\n",
                _ => separator,
            });
        }
    }

    fn close(&mut self, name: &str) {
        match name {
            "a" => {
                if let Some(anchor) = self.anchor.take() {
                    let visible = self.anchor_text(anchor);
                    self.push(&visible);
                }
            }
            "li" => self.block_break("\n"),
            name if is_block(name) => self.block_break("\n\n"),
            _ => {}
        }
    }

    /// The text an anchor stands for, recording plain links.
    fn anchor_text(&mut self, anchor: Anchor) -> String {
        let visible = anchor.text.trim().to_owned();
        let classes: Vec<&str> = anchor.class.split_whitespace().collect();
        let is_hashtag =
            classes.contains(&"hashtag") || anchor.rel.split_whitespace().any(|r| r == "tag");
        let is_mention = !is_hashtag && (classes.contains(&"mention") || visible.starts_with('@'));
        if is_hashtag || is_mention || visible.starts_with('#') {
            return visible;
        }
        match anchor.href {
            Some(href) if href.starts_with("http://") || href.starts_with("https://") => {
                let href = html_escape::decode_html_entities(&href).into_owned();
                if !self.links.contains(&href) {
                    self.links.push(href.clone());
                }
                href
            }
            _ => visible,
        }
    }

    fn finish(mut self) -> HtmlText {
        if let Some(anchor) = self.anchor.take() {
            let visible = self.anchor_text(anchor);
            self.push(&visible);
        }
        let text = self
            .text
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n");
        HtmlText {
            text: text.trim().to_owned(),
            links: self.links,
        }
    }
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div" | "blockquote" | "pre" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
    )
}

fn is_void(name: &str) -> bool {
    matches!(
        name,
        "br" | "img" | "hr" | "wbr" | "input" | "meta" | "link"
    )
}

/// Runs of white space (HTML source line breaks and indentation) become one space.
fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if c.is_whitespace() && c != '\u{a0}' {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

/// The value of attribute `wanted` in the attribute part of a start tag.
fn attribute(attributes: &str, wanted: &str) -> Option<String> {
    let mut rest = attributes.trim_start();
    while !rest.is_empty() {
        let name_end = rest
            .find(|c: char| c == '=' || c.is_whitespace() || c == '/')
            .unwrap_or(rest.len());
        let name = rest.get(..name_end).unwrap_or_default();
        rest = rest.get(name_end..).unwrap_or_default().trim_start();
        let mut value = None;
        if let Some(after_equals) = rest.strip_prefix('=') {
            let after_equals = after_equals.trim_start();
            let (found, remaining) = match after_equals.chars().next() {
                Some(quote @ ('"' | '\'')) => {
                    let inner = after_equals.get(1..).unwrap_or_default();
                    match inner.find(quote) {
                        Some(end) => (
                            inner.get(..end).unwrap_or_default(),
                            inner.get(end + 1..).unwrap_or_default(),
                        ),
                        None => (inner, ""),
                    }
                }
                _ => {
                    let end = after_equals
                        .find(char::is_whitespace)
                        .unwrap_or(after_equals.len());
                    (
                        after_equals.get(..end).unwrap_or_default(),
                        after_equals.get(end..).unwrap_or_default(),
                    )
                }
            };
            value = Some(found);
            rest = remaining;
        } else if name.is_empty() {
            rest = rest.get(1..).unwrap_or_default();
        }
        if name.eq_ignore_ascii_case(wanted) {
            return Some(value.unwrap_or_default().to_owned());
        }
        rest = rest.trim_start();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_breaks_mentions_hashtags_and_links() {
        let html = "<p><span class=\"h-card\"><a href=\"https://icosahedron.website/@halcy\" \
                    class=\"u-url mention\">@<span>halcy</span></a></span> you&#39;re a doo-doo \
                    head</p><p>edit: line one<br>line two :trans_heart: <a \
                    href=\"https://icosahedron.website/tags/ThisIsAHashtag\" class=\"mention \
                    hashtag\" rel=\"tag\">#<span>ThisIsAHashtag</span></a> see <a \
                    href=\"https://example.org/a?b=1&amp;c=2\" rel=\"nofollow\"><span \
                    class=\"invisible\">https://</span><span class=\"ellipsis\">example.org/a</span>\
                    <span class=\"invisible\">?b=1&amp;c=2</span></a> &amp; &quot;more&quot;</p>";
        let converted = to_text(html);
        assert_eq!(
            converted.text,
            "@halcy you're a doo-doo head\n\nedit: line one\nline two :trans_heart: \
             #ThisIsAHashtag see https://example.org/a?b=1&c=2 & \"more\""
        );
        assert_eq!(
            converted.links,
            vec!["https://example.org/a?b=1&c=2".to_owned()]
        );
    }

    #[test]
    fn quote_fallback_is_left_out_and_plain_text_kept() {
        let html = "<p class=\"quote-inline\">RE: <a href=\"http://x.test/1\">x.test/1</a></p>\
                    <p>yoooooooo</p>";
        assert_eq!(to_text(html).text, "yoooooooo");
        assert!(to_text(html).links.is_empty());
        assert_eq!(
            to_text("Fish &amp; chips\nand peas").text,
            "Fish & chips\nand peas"
        );
        assert_eq!(
            to_text("<p>unclosed <a href=\"https://a.test/\">a").text,
            "unclosed https://a.test/"
        );
        assert_eq!(to_text("a < b").text, "a < b");
    }
}
