//! The names a template's JSON refers to: what `Ref`, `Fn::GetAtt`, `Fn::Sub` and `DependsOn`
//! name, so that synthesis can check each is in the stack.

use std::collections::BTreeSet;

use serde_json::Value;

/// A name a template refers to: `Ref` may name a parameter, a pseudo parameter or a resource;
/// `Fn::GetAtt`, `DependsOn` and `${X.Attr}` only a resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Reference {
    Ref(String),
    Resource(String),
}

/// Every name referred to anywhere in `value`.
pub(crate) fn references(value: &Value) -> BTreeSet<Reference> {
    let mut found = BTreeSet::new();
    collect_references(value, &mut found);
    found
}

fn collect_references(value: &Value, found: &mut BTreeSet<Reference>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(name)) = object.get("Ref") {
                found.insert(Reference::Ref(name.clone()));
            }
            if let Some(Value::Array(args)) = object.get("Fn::GetAtt")
                && let Some(Value::String(name)) = args.first()
            {
                found.insert(Reference::Resource(name.clone()));
            }
            if let Some(Value::String(template)) = object.get("Fn::Sub") {
                found.extend(sub_references(template));
            }
            if let Some(Value::Array(ids)) = object.get("DependsOn") {
                found.extend(ids.iter().filter_map(Value::as_str).map(|it| Reference::Resource(it.to_owned())));
            }
            object.values().for_each(|it| collect_references(it, found));
        }
        Value::Array(items) => items.iter().for_each(|it| collect_references(it, found)),
        _ => {}
    }
}

/// The names in an `Fn::Sub` template: `${Name}` and `${Resource.Attribute}`; `${!Literal}` is text.
fn sub_references(template: &str) -> Vec<Reference> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('}') else { break };
        let name = &rest[..end];
        rest = &rest[end + 1..];
        if name.starts_with('!') {
            continue;
        }
        match name.split_once('.') {
            Some((resource, _attribute)) => found.push(Reference::Resource(resource.to_owned())),
            None => found.push(Reference::Ref(name.to_owned())),
        }
    }
    found
}
