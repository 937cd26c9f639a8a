//! Name resolution scopes: which columns a query level can see, under which qualifiers.

use fdw_api::{err, DataType, FdwResult};

/// One visible column: its position in the input row of the expressions being bound.
#[derive(Clone, Debug)]
pub struct ScopeCol {
    pub qualifier: Option<String>,
    pub name: String,
    pub ty: DataType,
    pub index: usize,
    /// Hidden from `*` (the right side of a `USING` column, the row identity).
    pub hidden: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub cols: Vec<ScopeCol>,
}

/// The outcome of looking a name up in one scope.
pub enum Lookup {
    Found(usize, DataType),
    NotFound,
}

impl Scope {
    pub fn new() -> Self {
        Scope { cols: Vec::new() }
    }

    /// Appends the columns of a relation with the given qualifier, at positions starting at
    /// `offset`.
    pub fn add_relation(&mut self, qualifier: Option<&str>, cols: &[(String, DataType)], offset: usize) {
        for (i, (name, ty)) in cols.iter().enumerate() {
            self.cols.push(ScopeCol {
                qualifier: qualifier.map(str::to_string),
                name: name.clone(),
                ty: ty.clone(),
                index: offset + i,
                hidden: false,
            });
        }
    }

    /// Merges another scope shifted by `offset` (the right side of a join).
    pub fn extend_shifted(&mut self, other: &Scope, offset: usize) {
        for c in &other.cols {
            let mut c = c.clone();
            c.index += offset;
            self.cols.push(c);
        }
    }

    /// Whether a relation with this qualifier is in scope.
    pub fn has_qualifier(&self, q: &str) -> bool {
        self.cols.iter().any(|c| c.qualifier.as_deref() == Some(q))
    }

    pub fn lookup(&self, qualifier: Option<&str>, name: &str) -> FdwResult<Lookup> {
        let mut found: Option<&ScopeCol> = None;
        for c in &self.cols {
            if c.name != name {
                continue;
            }
            match qualifier {
                Some(q) if c.qualifier.as_deref() != Some(q) => continue,
                None if c.hidden => continue,
                _ => {}
            }
            if let Some(prev) = found {
                if prev.index != c.index {
                    return Err(err!(AMBIGUOUS_COLUMN, "column reference \"{}\" is ambiguous", name));
                }
            }
            found = Some(c);
        }
        Ok(match found {
            Some(c) => Lookup::Found(c.index, c.ty.clone()),
            None => Lookup::NotFound,
        })
    }

    /// The columns `*` (or `q.*`) expands to, in order.
    pub fn star(&self, qualifier: Option<&str>) -> Vec<&ScopeCol> {
        self.cols
            .iter()
            .filter(|c| match qualifier {
                Some(q) => c.qualifier.as_deref() == Some(q) && c.name != "ctid",
                None => !c.hidden,
            })
            .collect()
    }
}
