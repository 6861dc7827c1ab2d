"""Test macros: cmocka unit tests and libFuzzer targets with a corpus replay test.

unit_test(name, srcs, deps)
    A cc_test built with COPTS and linked with cmocka, tagged "unit". cmocka reports in TAP
    ("ok N - case" / "not ok N - case") so tests/run_all.sh can count individual cases from
    the test log; the output stays readable in `bazel test --test_output=errors`.

fuzz_target(name, src, deps, corpus, dict)
    <name>_fuzzer  cc_binary for `bazel build --config=fuzz //tests/fuzz:<name>_fuzzer`
                   (clang, -fsanitize=fuzzer). Tagged "manual": never built by `//...`.
    <name>_replay  cc_test linking the same source with tests/fuzz/replay_main.c, a plain
                   main() that feeds every file of the corpus directory to
                   LLVMFuzzerTestOneInput. Runs in every ordinary test run, tagged
                   "fuzz_replay". Needs neither clang nor libFuzzer.
"""

load("//bazel:copts.bzl", "COPTS")

CMOCKA_ENV = {"CMOCKA_MESSAGE_OUTPUT": "tap"}

def unit_test(name, srcs, deps = [], data = [], args = [], tags = [], size = "small", **kwargs):
    native.cc_test(
        name = name,
        srcs = srcs,
        copts = COPTS,
        deps = deps + ["//bazel:cmocka"],
        data = data,
        args = args,
        env = CMOCKA_ENV,
        size = size,
        tags = ["unit"] + tags,
        **kwargs
    )

def fuzz_target(name, src, deps = [], corpus = None, dict = None, size = "small"):
    """corpus: a directory in this package (default "corpus/<name>")."""
    if corpus == None:
        corpus = "corpus/" + name
    pkg = native.package_name()
    corpus_path = pkg + "/" + corpus if pkg else corpus

    native.cc_binary(
        name = name + "_fuzzer",
        srcs = [src],
        copts = COPTS,
        deps = deps,
        data = [dict] if dict else [],
        tags = ["manual", "fuzzer"],
        testonly = True,
    )
    native.cc_test(
        name = name + "_replay",
        srcs = [src, "//tests/fuzz:replay_main.c"],
        copts = COPTS,
        deps = deps,
        data = native.glob([corpus + "/**"]),
        args = [corpus_path],
        size = size,
        tags = ["fuzz_replay"],
    )
