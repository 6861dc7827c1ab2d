"""c_proto_library: protoc-c in a genrule, then a cc_library over the generated code."""

load("//bazel:copts.bzl", "COPTS")

def c_proto_library(name, src, deps = [], visibility = None):
    base = src[:-len(".proto")]
    native.genrule(
        name = name + "_gen",
        srcs = [src],
        outs = [base + ".pb-c.c", base + ".pb-c.h"],
        cmd = "protoc-c --proto_path=$$(dirname $(location %s)) --c_out=$(@D) $(location %s)" % (src, src),
    )
    native.cc_library(
        name = name,
        srcs = [base + ".pb-c.c"],
        hdrs = [base + ".pb-c.h"],
        copts = [c for c in COPTS if c != "-Wshadow"],
        includes = ["."],
        deps = deps + ["//bazel:protobuf_c"],
        visibility = visibility,
    )
