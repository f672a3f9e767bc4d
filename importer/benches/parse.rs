//! Manifest parser throughput in MB/s, on a generated CMake-like manifest.
//! `cargo bench -p ggninja-importer`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ggninja_importer::{parse_str, Options};

/// A manifest shaped like CMake's: per-edge variable blocks, depfiles,
/// order-only deps and long command lines.
fn manifest(edges: usize) -> String {
    let mut m = String::from(
        "ninja_required_version = 1.5\ncflags = -O2 -g -Wall\n\
         rule CXX_COMPILER\n  depfile = $DEP_FILE\n  deps = gcc\n  \
         command = /usr/bin/c++ $DEFINES $INCLUDES $FLAGS -MD -MT $out -MF $DEP_FILE -o $out -c $in\n  \
         description = Building CXX object $out\n\
         rule LINK\n  command = /usr/bin/c++ $FLAGS $in -o $out $LINK_LIBRARIES\n  description = Linking $out\n",
    );
    for i in 0..edges {
        let dir = i % 97;
        m.push_str(&format!(
            "build src/lib{dir}/CMakeFiles/lib{dir}.dir/file_{i}.cc.o: CXX_COMPILER ../src/lib{dir}/file_{i}.cc || cmake_object_order_depends_target_lib{dir}\n  \
             DEFINES = -DLIB{dir}_EXPORTS -DNDEBUG\n  DEP_FILE = src/lib{dir}/CMakeFiles/lib{dir}.dir/file_{i}.cc.o.d\n  \
             FLAGS = $cflags -fPIC -std=gnu++17\n  INCLUDES = -I../include -I../src/lib{dir} -Isrc/lib{dir}\n  \
             OBJECT_DIR = src/lib{dir}/CMakeFiles/lib{dir}.dir\n"
        ));
    }
    for dir in 0..97 {
        m.push_str(&format!(
            "build cmake_object_order_depends_target_lib{dir}: phony\nbuild lib{dir}.so: LINK"
        ));
        for i in (dir..edges).step_by(97) {
            m.push_str(&format!(
                " src/lib{dir}/CMakeFiles/lib{dir}.dir/file_{i}.cc.o"
            ));
        }
        m.push_str("\n  LINK_LIBRARIES = -lpthread\n");
    }
    m
}

fn bench_parse(c: &mut Criterion) {
    let text = manifest(20_000);
    let mut group = c.benchmark_group("manifest");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    group.bench_function("parse_20k_edges", |b| {
        b.iter(|| {
            let loaded = parse_str("build.ninja", text.as_bytes(), &Options::default())
                .expect("generated manifest parses");
            std::hint::black_box(loaded.graph.builds.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
