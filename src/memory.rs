//! Handing freed memory back to the system. glibc keeps freed heap pages for reuse; after a
//! lookup or a scan has dropped hundreds of MB, the app should not keep looking that big.

pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap memory; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
