#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| siseri_exchange::fuzzing::results(data));
