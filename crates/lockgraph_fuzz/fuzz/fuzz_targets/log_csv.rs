#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lockgraph_fuzz::Target::from_name("log_csv").unwrap().run(data));
