//! Reply templates with variables: `{author_name}`, `{service}`, `{phone_line}`, `{signature}`.
//!
//! A template is checked when the matrix is parsed (unknown variables and unbalanced braces are
//! mistakes there), and rendered when someone starts a draft. Rendering fails rather than
//! leaving a `{variable}` in a reply to a patient.

use serde::{Deserialize, Serialize};

/// The variables a template may use.
pub const VARIABLES: [&str; 4] = ["author_name", "service", "phone_line", "signature"];

/// Why a template is refused or cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// An unknown variable.
    #[error(
        "template `{template}` uses the unknown variable {{{variable}}}: use one of \
         {{author_name}}, {{service}}, {{phone_line}}, {{signature}}"
    )]
    UnknownVariable {
        /// The template.
        template: String,
        /// The variable.
        variable: String,
    },
    /// A `{` without its `}` or the other way round.
    #[error("template `{template}` has an unmatched brace: write variables as {{name}}")]
    Unbalanced {
        /// The template.
        template: String,
    },
    /// No value for a variable at render time.
    #[error("template `{template}` needs a value for {{{variable}}}: fill it in before drafting")]
    MissingValue {
        /// The template.
        template: String,
        /// The variable.
        variable: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(usize),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The template's name.
    pub name: String,
    /// The text as written.
    pub text: String,
    pieces: Vec<Piece>,
}

/// Values for the template variables; an empty value counts as missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateValues {
    /// How to address the author (first name or handle).
    pub author_name: String,
    /// The service or ward concerned.
    pub service: String,
    /// The phone line to call.
    pub phone_line: String,
    /// The sender's human sign-off (`^Sam, ward 7`).
    pub signature: String,
}

impl TemplateValues {
    fn get(&self, index: usize) -> &str {
        match index {
            0 => &self.author_name,
            1 => &self.service,
            2 => &self.phone_line,
            _ => &self.signature,
        }
    }
}

impl Template {
    /// Parses a template's text.
    pub fn parse(name: &str, text: &str) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            let (before, after) = rest.split_at(open);
            if after.starts_with('}') {
                return Err(TemplateError::Unbalanced {
                    template: name.into(),
                });
            }
            if !before.is_empty() {
                pieces.push(Piece::Text(before.to_owned()));
            }
            let inner = after.get(1..).unwrap_or_default();
            let Some(close) = inner.find('}') else {
                return Err(TemplateError::Unbalanced {
                    template: name.into(),
                });
            };
            let var = inner.get(..close).unwrap_or_default().trim();
            let Some(index) = VARIABLES.iter().position(|v| *v == var) else {
                return Err(TemplateError::UnknownVariable {
                    template: name.into(),
                    variable: var.into(),
                });
            };
            pieces.push(Piece::Var(index));
            rest = inner.get(close + 1..).unwrap_or_default();
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        Ok(Template {
            name: name.into(),
            text: text.into(),
            pieces,
        })
    }

    /// The variables the template uses, in order of first use.
    pub fn variables(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for p in &self.pieces {
            if let Piece::Var(i) = p
                && let Some(v) = VARIABLES.get(*i)
                && !out.contains(v)
            {
                out.push(v);
            }
        }
        out
    }

    /// Renders the template with the values.
    pub fn render(&self, values: &TemplateValues) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(self.text.len() + 64);
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(i) => {
                    let value = values.get(*i).trim();
                    if value.is_empty() {
                        return Err(TemplateError::MissingValue {
                            template: self.name.clone(),
                            variable: VARIABLES.get(*i).copied().unwrap_or_default().into(),
                        });
                    }
                    out.push_str(value);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> TemplateValues {
        TemplateValues {
            author_name: "Pat".into(),
            service: "the Emergency Department".into(),
            phone_line: "01632 960000".into(),
            signature: "^Sam".into(),
        }
    }

    #[test]
    fn renders_variables() {
        let t = Template::parse(
            "a",
            "Hi {author_name}, call {phone_line} about {service}. {signature}",
        )
        .unwrap();
        assert_eq!(
            t.render(&values()).unwrap(),
            "Hi Pat, call 01632 960000 about the Emergency Department. ^Sam"
        );
        assert_eq!(
            t.variables(),
            ["author_name", "phone_line", "service", "signature"]
        );
    }

    #[test]
    fn refuses_unknown_unbalanced_and_missing() {
        assert!(matches!(
            Template::parse("a", "Hi {name}"),
            Err(TemplateError::UnknownVariable { .. })
        ));
        assert!(matches!(
            Template::parse("a", "Hi {author_name"),
            Err(TemplateError::Unbalanced { .. })
        ));
        assert!(matches!(
            Template::parse("a", "Hi }"),
            Err(TemplateError::Unbalanced { .. })
        ));
        let t = Template::parse("a", "Hi {author_name} {signature}").unwrap();
        let mut v = values();
        v.signature.clear();
        let e = t.render(&v).unwrap_err();
        assert!(e.to_string().contains("{signature}"), "{e}");
    }
}
