#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lockgraph_fuzz::Target::from_name("innodb").unwrap().run(data));
