// The desktop app's entry point; everything is in lib.rs.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    chevet_desktop::run();
}
