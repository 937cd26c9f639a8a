//! The wrappers a database knows, by handler name: what `CREATE FOREIGN DATA WRAPPER ...
//! HANDLER x` and `CREATE EXTENSION x` refer to. The catalog stores only names; the registry
//! maps them to the routine objects (which cannot be persisted).

use std::collections::HashMap;
use std::sync::Arc;

use fdw_api::FdwRoutine;

/// Registered wrapper handlers, keyed by `FdwRoutine::name()`.
#[derive(Clone, Default)]
pub struct WrapperRegistry {
    handlers: HashMap<String, Arc<dyn FdwRoutine>>,
}

impl std::fmt::Debug for WrapperRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl WrapperRegistry {
    pub fn new() -> Self {
        WrapperRegistry { handlers: HashMap::new() }
    }
    /// Registers (or replaces) a handler under its name.
    pub fn register(&mut self, routine: Arc<dyn FdwRoutine>) {
        self.handlers.insert(routine.name().to_string(), routine);
    }
    pub fn get(&self, name: &str) -> Option<Arc<dyn FdwRoutine>> {
        self.handlers.get(name).cloned()
    }
    /// Handler names, sorted (so bootstrap assigns OIDs deterministically).
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.handlers.keys().cloned().collect();
        v.sort();
        v
    }
    /// The registered handler a function name written in SQL refers to: PostgreSQL's
    /// `file_fdw_handler` / `file_fdw_validator` as well as the bare `file_fdw`.
    pub fn resolve_function(&self, function: &str, suffix: &str) -> Option<String> {
        let f = function.rsplit('.').next().unwrap_or(function);
        if self.handlers.contains_key(f) {
            return Some(f.to_string());
        }
        f.strip_suffix(suffix).filter(|base| self.handlers.contains_key(*base)).map(str::to_string)
    }
}
