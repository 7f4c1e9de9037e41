//! Configuration: typed schema, layered loading with origins, validation and naming.

pub mod decode;
pub mod load;
pub mod naming;
pub mod problem;
pub mod references;
pub mod schema;
pub mod tree;
pub mod validate;

pub use load::{ConfigFile, LoadError, Loaded, Overrides, load, locate};
pub use naming::{NameKind, Naming};
pub use problem::{Problem, Problems};
pub use schema::*;
