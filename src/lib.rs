pub fn _x(){}
mod ordering;
mod ordering_napi;
