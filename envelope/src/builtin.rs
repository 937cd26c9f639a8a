//! Registration of the built-in wrappers (cargo feature `builtin-wrappers`). The envelope's
//! core never names a concrete wrapper; this module is the one place that does.

use crate::catalog::registry::WrapperRegistry;

/// Registers every built-in wrapper compiled in.
pub fn register(registry: &mut WrapperRegistry) {
    #[cfg(feature = "builtin-wrappers")]
    {
        registry.register(file_fdw::handler());
        registry.register(mot_engine::handler());
        registry.register(remote_fdw::handler());
    }
    let _ = registry;
}
