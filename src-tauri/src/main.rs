// The desktop app's entry point; everything is in lib.rs.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // The embedded hub checks passwords too: the same bound on the allocator as `chevet serve`.
    chevet::hub::bound_allocator();
    chevet_desktop::run();
}
