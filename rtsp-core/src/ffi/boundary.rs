//! The panic boundary and the argument checks every C entry point goes through.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::status::rtsp_core_status;

/// Runs `f`, turning a panic into [`rtsp_core_status::Panic`] so that no unwind crosses into C.
pub(crate) fn guard(f: impl FnOnce() -> rtsp_core_status) -> rtsp_core_status {
    // AssertUnwindSafe: after a caught panic the handle may be inconsistent, which is why the
    // status tells the caller to free it; nothing is ever observed half-updated across the boundary
    // without the caller being told.
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(rtsp_core_status::Panic)
}

/// Borrows a required pointer argument, or returns `NullArgument` from the enclosing function.
macro_rules! arg_ref {
    ($ptr:expr) => {
        // SAFETY: the caller promises the pointer is NULL or valid for the duration of the call
        // (documented on every function); NULL is checked here.
        match unsafe { $ptr.as_ref() } {
            Some(r) => r,
            None => return $crate::ffi::status::rtsp_core_status::NullArgument,
        }
    };
}

/// Mutably borrows a required pointer argument, or returns `NullArgument`.
macro_rules! arg_mut {
    ($ptr:expr) => {
        // SAFETY: as for `arg_ref!`, and the caller does not alias the pointee during the call.
        match unsafe { $ptr.as_mut() } {
            Some(r) => r,
            None => return $crate::ffi::status::rtsp_core_status::NullArgument,
        }
    };
}

/// Evaluates a `Result<T, rtsp_core_status>`, returning the error status from the enclosing function.
macro_rules! try_status {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(status) => return status,
        }
    };
}

pub(crate) use {arg_mut, arg_ref, try_status};

/// Reads a required C string argument as UTF-8.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char) -> Result<&'a str, rtsp_core_status> {
    if ptr.is_null() {
        return Err(rtsp_core_status::NullArgument);
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let s = unsafe { CStr::from_ptr(ptr) };
    s.to_str().map_err(|_| rtsp_core_status::InvalidArgument)
}

/// Borrows a byte slice argument; a NULL pointer is allowed only with a zero length.
///
/// # Safety
/// `ptr` must be NULL or valid for reads of `len` bytes for `'a`.
pub(crate) unsafe fn bytes_arg<'a>(
    ptr: *const u8,
    len: usize,
) -> Result<&'a [u8], rtsp_core_status> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(rtsp_core_status::NullArgument)
        };
    }
    // SAFETY: non-NULL and valid for `len` bytes per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows a writable output buffer; a NULL pointer is allowed only with a zero capacity.
///
/// # Safety
/// `ptr` must be NULL or valid for writes of `cap` bytes for `'a`, and not aliased.
pub(crate) unsafe fn buf_arg<'a>(
    ptr: *mut u8,
    cap: usize,
) -> Result<&'a mut [u8], rtsp_core_status> {
    if ptr.is_null() {
        return if cap == 0 {
            Ok(&mut [])
        } else {
            Err(rtsp_core_status::NullArgument)
        };
    }
    // SAFETY: non-NULL and valid for `cap` bytes per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, cap) })
}

/// Writes `value` through an optional out-pointer (NULL means the caller does not want it).
///
/// # Safety
/// `ptr` must be NULL or valid for a write of `T`.
pub(crate) unsafe fn write_opt<T>(ptr: *mut T, value: T) {
    if !ptr.is_null() {
        // SAFETY: non-NULL and valid per the caller's contract.
        unsafe { ptr.write(value) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_turns_panics_into_a_status() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let s = guard(|| panic!("boom"));
        std::panic::set_hook(prev);
        assert_eq!(s, rtsp_core_status::Panic);
        assert_eq!(guard(|| rtsp_core_status::Ok), rtsp_core_status::Ok);
    }

    #[test]
    fn argument_helpers_check_null_and_utf8() {
        unsafe {
            assert_eq!(
                str_arg(std::ptr::null()),
                Err(rtsp_core_status::NullArgument)
            );
            assert_eq!(
                str_arg(c"\xff".as_ptr()),
                Err(rtsp_core_status::InvalidArgument)
            );
            assert_eq!(str_arg(c"ok".as_ptr()), Ok("ok"));
            assert_eq!(bytes_arg(std::ptr::null(), 0), Ok(&[][..]));
            assert_eq!(
                bytes_arg(std::ptr::null(), 1),
                Err(rtsp_core_status::NullArgument)
            );
        }
    }
}
