//! Dependencies between catalog objects, for DROP ... RESTRICT / CASCADE (PostgreSQL's
//! `pg_depend` walk, computed from the catalog instead of stored).
//!
//! Edges: a wrapper has its servers; a server its user mappings and foreign tables; a table
//! or view the views whose query names it (found by parsing the view's SQL). Indexes go with
//! their table silently, as in PostgreSQL. Dependents are listed depth first, each level in
//! OID (creation) order, which is the order PostgreSQL's messages show in practice.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use fdw_api::{err, FdwError, FdwResult};
use sqlparser::ast::Visit;

use super::{Catalog, Oid, RelKind, PUBLIC_SCHEMA};

/// A droppable catalog object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ObjRef {
    Wrapper(String),
    Server(String),
    UserMapping { user: String, server: String },
    Relation { schema: String, name: String },
}

impl ObjRef {
    pub(crate) fn relation(schema: &str, name: &str) -> ObjRef {
        ObjRef::Relation { schema: schema.to_string(), name: name.to_string() }
    }

    /// PostgreSQL's description (`server s`, `foreign table t`, `user mapping for u on server s`).
    pub(crate) fn describe(&self, cat: &Catalog) -> String {
        match self {
            ObjRef::Wrapper(w) => format!("foreign-data wrapper {w}"),
            ObjRef::Server(s) => format!("server {s}"),
            ObjRef::UserMapping { user, server } => format!("user mapping for {user} on server {server}"),
            ObjRef::Relation { schema, name } => {
                let qualified = if schema == PUBLIC_SCHEMA { name.clone() } else { format!("{schema}.{name}") };
                match cat.relation(Some(schema), name) {
                    Some(r) if r.kind == RelKind::View => format!("view {qualified}"),
                    Some(r) if r.is_plain_table => format!("table {qualified}"),
                    _ => format!("foreign table {qualified}"),
                }
            }
        }
    }
}

/// Objects that depend directly on `obj`, in OID order.
fn direct_dependents(cat: &Catalog, obj: &ObjRef) -> Vec<ObjRef> {
    let mut out: Vec<(Oid, ObjRef)> = Vec::new();
    match obj {
        ObjRef::Wrapper(w) => {
            out.extend(
                cat.servers.values().filter(|s| &s.wrapper == w).map(|s| (s.oid, ObjRef::Server(s.name.clone()))),
            );
        }
        ObjRef::Server(s) => {
            out.extend(
                cat.user_mappings
                    .iter()
                    .filter(|m| &m.server == s)
                    .map(|m| (m.oid, ObjRef::UserMapping { user: m.user.clone(), server: m.server.clone() })),
            );
            out.extend(
                cat.relations
                    .values()
                    .filter(|r| r.kind == RelKind::ForeignTable && &r.server == s)
                    .map(|r| (r.oid, ObjRef::relation(&r.schema, &r.name))),
            );
        }
        ObjRef::Relation { schema, name } => {
            for r in cat.relations.values().filter(|r| r.kind == RelKind::View) {
                if view_references(r.query.as_deref().unwrap_or(""), schema, name) {
                    out.push((r.oid, ObjRef::relation(&r.schema, &r.name)));
                }
            }
        }
        ObjRef::UserMapping { .. } => {}
    }
    out.sort_by_key(|(oid, _)| *oid);
    out.into_iter().map(|(_, o)| o).collect()
}

/// The relations a query's SQL names (unqualified names are in `public`).
pub(crate) fn query_relations(sql: &str) -> Vec<(String, String)> {
    let Ok(crate::sql::Statement::Sql(stmt)) = crate::sql::parse_statement(sql) else {
        return Vec::new();
    };
    let mut rels = Vec::new();
    let _ = stmt.visit(&mut RelationCollector(&mut rels));
    rels
}

struct RelationCollector<'a>(&'a mut Vec<(String, String)>);

impl sqlparser::ast::Visitor for RelationCollector<'_> {
    type Break = ();
    fn pre_visit_relation(&mut self, relation: &sqlparser::ast::ObjectName) -> ControlFlow<()> {
        if let Ok((schema, name)) = crate::sql::object_name(relation) {
            self.0.push((schema.unwrap_or_else(|| PUBLIC_SCHEMA.to_string()), name));
        }
        ControlFlow::Continue(())
    }
}

fn view_references(sql: &str, schema: &str, name: &str) -> bool {
    query_relations(sql).iter().any(|(s, n)| s == schema && n == name)
}

/// The objects a DROP of `roots` also removes, depth first, with the object each depends on
/// (for RESTRICT's DETAIL). Roots themselves are not included.
pub(crate) fn dependents(cat: &Catalog, roots: &[ObjRef]) -> Vec<(ObjRef, ObjRef)> {
    let mut seen: BTreeSet<ObjRef> = roots.iter().cloned().collect();
    let mut out = Vec::new();
    fn walk(cat: &Catalog, obj: &ObjRef, seen: &mut BTreeSet<ObjRef>, out: &mut Vec<(ObjRef, ObjRef)>) {
        for d in direct_dependents(cat, obj) {
            if seen.insert(d.clone()) {
                out.push((d.clone(), obj.clone()));
                walk(cat, &d, seen, out);
            }
        }
    }
    for r in roots {
        walk(cat, r, &mut seen, &mut out);
    }
    out
}

/// Checks a DROP: without CASCADE, dependents are PostgreSQL's 2BP01 error; with CASCADE,
/// they are returned (to be dropped too) and announced in a NOTICE. `what` describes the
/// dropped object for the error (`server s`, `extension file_fdw`).
pub(crate) fn check_drop(
    cat: &Catalog,
    roots: &[ObjRef],
    what: &str,
    cascade: bool,
    notices: &mut Vec<String>,
) -> FdwResult<Vec<ObjRef>> {
    let deps = dependents(cat, roots);
    if deps.is_empty() {
        return Ok(Vec::new());
    }
    if !cascade {
        let detail: Vec<String> =
            deps.iter().map(|(d, on)| format!("{} depends on {}", d.describe(cat), on.describe(cat))).collect();
        let message = if roots.len() > 1 {
            "cannot drop desired object(s) because other objects depend on them".to_string()
        } else {
            format!("cannot drop {what} because other objects depend on it")
        };
        return Err(err!(DEPENDENT_OBJECTS_STILL_EXIST, "{}", message)
            .with_detail(detail.join("\n"))
            .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
    }
    notices.push(cascade_notice(cat, &deps));
    Ok(deps.into_iter().map(|(d, _)| d).collect())
}

/// `drop cascades to x`, or `drop cascades to N other objects` with one DETAIL line each.
fn cascade_notice(cat: &Catalog, deps: &[(ObjRef, ObjRef)]) -> String {
    if let [(only, _)] = deps {
        return format!("NOTICE:  drop cascades to {}", only.describe(cat));
    }
    let lines: Vec<String> = deps.iter().map(|(d, _)| format!("drop cascades to {}", d.describe(cat))).collect();
    format!("NOTICE:  drop cascades to {} other objects\nDETAIL:  {}", deps.len(), lines.join("\n"))
}

/// Removes one object from the catalog (its dependents must be removed by the caller).
pub(crate) fn remove(cat: &mut Catalog, obj: &ObjRef) {
    match obj {
        ObjRef::Wrapper(w) => {
            cat.wrappers.remove(w);
        }
        ObjRef::Server(s) => {
            cat.servers.remove(s);
        }
        ObjRef::UserMapping { user, server } => cat.user_mappings.retain(|m| !(&m.user == user && &m.server == server)),
        ObjRef::Relation { schema, name } => {
            cat.relations.remove(&(schema.clone(), name.clone()));
        }
    }
}

/// `cannot drop foreign-data wrapper x because extension x requires it`.
pub(crate) fn extension_member_error(wrapper: &str) -> FdwError {
    err!(
        DEPENDENT_OBJECTS_STILL_EXIST,
        "cannot drop foreign-data wrapper {} because extension {} requires it",
        wrapper,
        wrapper
    )
    .with_hint(format!("You can drop extension {wrapper} instead."))
}
