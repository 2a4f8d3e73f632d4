mod der;
pub mod error;
pub mod material;
